"""The denoising autoencoder: a torch module, its hyperparameters, and the skorch net around it.

``784 -> hidden -> bottleneck -> hidden -> 784`` with one activation after every hidden layer
and a sigmoid output (pixels live in [0, 1]). The hyperparameters are those of Sievert et al.
(SciPy 2019, appendix "Parallel Experiments"), named as skorch names them: ``optimizer``,
``batch_size``, ``module__init``, ``module__activation``, ``optimizer__lr``,
``optimizer__momentum`` (SGD only, Nesterov momentum as in the paper), ``optimizer__weight_decay``.

All randomness (initial weights, minibatch order) comes from explicit torch generators seeded
from the trial seed, never from torch's global generator, so trials sharing a worker process do
not disturb one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from skorch import NeuralNetRegressor
from torch import nn

from tunebench.checks import check_choice, check_float, check_int
from tunebench.names import each

ACTIVATIONS = ("ReLU", "LeakyReLU", "PReLU", "ELU")
INITS = ("xavier", "kaiming")
OPTIMIZERS = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam}
LEAKY_SLOPE = 0.01


@dataclass(frozen=True)
class ModelSpec:
    """Workload-level settings every trial shares (not searched)."""

    n_features: int = 784
    hidden: int = 256
    bottleneck: int = 64
    max_epochs: int = 1
    torch_threads: int = 1
    nesterov: bool = True


@dataclass(frozen=True)
class HyperParams:
    """One trial's searched hyperparameters, validated; defaults fill keys the config leaves out."""

    optimizer: str = "SGD"
    batch_size: int = 64
    init: str = "xavier"
    activation: str = "ReLU"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0

    KEYS: ClassVar[dict[str, str]] = {
        "optimizer": "optimizer",
        "batch_size": "batch_size",
        "module__init": "init",
        "module__activation": "activation",
        "optimizer__lr": "lr",
        "optimizer__momentum": "momentum",
        "optimizer__weight_decay": "weight_decay",
    }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HyperParams:
        unknown = sorted(set(config) - set(cls.KEYS))
        if unknown:
            raise ValueError(
                f"autoencoder: unknown hyperparameter(s) {each(unknown, cls.KEYS, quote=True)}; allowed: {sorted(cls.KEYS)}"
            )
        hp = cls(**{cls.KEYS[k]: v for k, v in config.items()})
        hp.check()
        return hp

    def check(self) -> None:
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("module__activation", self.activation, ACTIVATIONS)
        check_choice("module__init", self.init, INITS)
        check_int("batch_size", self.batch_size, 1)
        check_float("optimizer__lr", self.lr, 0, low_open=True)
        check_float("optimizer__momentum", self.momentum, 0, 1)
        check_float("optimizer__weight_decay", self.weight_decay, 0)

    def architecture(self) -> tuple[str, str]:
        """What cannot change in place: the activation (module) and the optimizer class."""
        return (self.activation, self.optimizer)

    def optimizer_kwargs(self, spec: ModelSpec) -> dict[str, Any]:
        """Keyword arguments of the torch optimizer (momentum only for SGD; Adam ignores it)."""
        kw: dict[str, Any] = {"lr": float(self.lr), "weight_decay": float(self.weight_decay)}
        if self.optimizer == "SGD":
            kw["momentum"] = float(self.momentum)
            kw["nesterov"] = bool(spec.nesterov and self.momentum > 0)
        return kw


def init_gain(activation: str) -> float:
    """The gain that keeps activations' scale through a layer followed by ``activation``."""
    if activation == "ReLU":
        return nn.init.calculate_gain("relu")
    if activation == "LeakyReLU":
        return nn.init.calculate_gain("leaky_relu", LEAKY_SLOPE)
    return 1.0


def make_activation(name: str) -> nn.Module:
    if name == "LeakyReLU":
        return nn.LeakyReLU(LEAKY_SLOPE)
    return getattr(nn, name)()


class Autoencoder(nn.Module):
    """``n_features -> hidden -> bottleneck -> hidden -> n_features``, sigmoid output."""

    def __init__(
        self,
        n_features: int = 784,
        hidden: int = 256,
        bottleneck: int = 64,
        activation: str = "ReLU",
        init: str = "xavier",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_features, hidden), make_activation(activation), nn.Linear(hidden, bottleneck), make_activation(activation)
        )
        self.decoder = nn.Sequential(
            nn.Linear(bottleneck, hidden), make_activation(activation), nn.Linear(hidden, n_features), nn.Sigmoid()
        )
        generator = torch.Generator().manual_seed(int(seed))
        linears = [m for m in self.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for k, layer in enumerate(linears):
                last = k == len(linears) - 1
                if init == "xavier":
                    nn.init.xavier_uniform_(layer.weight, gain=1.0 if last else init_gain(activation), generator=generator)
                else:
                    slope = LEAKY_SLOPE if activation == "LeakyReLU" else 0.0
                    nonlinearity = "linear" if last else ("leaky_relu" if activation == "LeakyReLU" else "relu")
                    nn.init.kaiming_uniform_(layer.weight, a=slope, nonlinearity=nonlinearity, generator=generator)
                nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def make_net(hp: HyperParams, spec: ModelSpec, seed: int, shuffle: torch.Generator) -> NeuralNetRegressor:
    """An initialized skorch regressor for ``hp``: MSE loss, no internal validation split, no callbacks.

    ``shuffle`` orders the minibatches; the trainable reseeds it before every step.
    """
    opt_kw = {f"optimizer__{k}": v for k, v in hp.optimizer_kwargs(spec).items() if k != "lr"}
    net = NeuralNetRegressor(
        module=Autoencoder,
        module__n_features=spec.n_features,
        module__hidden=spec.hidden,
        module__bottleneck=spec.bottleneck,
        module__activation=hp.activation,
        module__init=hp.init,
        module__seed=int(seed),
        criterion=nn.MSELoss,
        optimizer=OPTIMIZERS[hp.optimizer],
        lr=float(hp.lr),
        batch_size=int(hp.batch_size),
        max_epochs=spec.max_epochs,
        train_split=None,
        callbacks="disable",
        verbose=0,
        device="cpu",
        iterator_train__shuffle=True,
        iterator_train__generator=shuffle,
        **opt_kw,
    )
    return net.initialize()


def set_hyperparams(net: NeuralNetRegressor, hp: HyperParams, spec: ModelSpec) -> None:
    """Apply new lr / momentum / weight decay / batch size to a live net, keeping optimizer state."""
    kw = hp.optimizer_kwargs(spec)
    for group in net.optimizer_.param_groups:
        group.update(kw)
    net.lr = kw.pop("lr")
    for key, value in kw.items():
        setattr(net, f"optimizer__{key}", value)
    net.batch_size = int(hp.batch_size)


def params_finite(module: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


_warm = False


def warm_torch() -> None:
    """Load, once per process, what torch imports lazily on the first optimizer (``torch._dynamo``,
    seconds of imports), so that time is not charged to a trial's first step."""
    global _warm
    if not _warm:
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        _warm = True


def as_tensor(a: np.ndarray) -> torch.Tensor:
    """A float32 tensor over ``a`` without a copy when possible; read-only arrays (Ray's object
    store maps them so) are copied, since torch tensors assume writable memory."""
    a = np.asarray(a, dtype=np.float32)
    if not a.flags.writeable or not a.flags.c_contiguous:
        a = np.array(a, dtype=np.float32, order="C")
    return torch.from_numpy(a)


def predict(module: nn.Module, X: np.ndarray, batch: int = 4096) -> np.ndarray:
    """The module's outputs for ``X`` (float32), in eval mode, in batches."""
    module.eval()
    out = np.empty((len(X), module.decoder[-2].out_features), dtype=np.float32)
    with torch.no_grad():
        for lo in range(0, len(X), batch):
            out[lo : lo + batch] = module(as_tensor(X[lo : lo + batch])).numpy()
    return out


def mse(module: nn.Module, X: np.ndarray, y: np.ndarray, batch: int = 4096) -> float:
    """Mean squared error of the module on ``(X, y)``, summed in float64 batch by batch."""
    module.eval()
    total = 0.0
    with torch.no_grad():
        for lo in range(0, len(X), batch):
            diff = module(as_tensor(X[lo : lo + batch])) - as_tensor(y[lo : lo + batch])
            total += float((diff**2).sum(dtype=torch.float64))
    return total / float(y.size)
