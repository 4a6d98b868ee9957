"""The denoising-autoencoder workload: noisy MNIST pairs, the skorch trainable, and whole runs."""

from __future__ import annotations

import os
import pickle
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.helpers import run_fingerprint, write_idx_set
from tunebench.config import load_experiment
from tunebench.run import run
from tunebench.workloads.autoencoder import DIVERGED_SCORE, AutoencoderTrainable, AutoencoderWorkload, paper_space
from tunebench.workloads.autoencoder_model import ModelSpec
from tunebench.workloads.base import Dataset
from tunebench.workloads.noisy_mnist import add_noise, make_pairs, noisy_mnist, split_sizes

SPEC = ModelSpec(hidden=32, bottleneck=8)
SGD = {"optimizer": "SGD", "batch_size": 32, "optimizer__lr": 0.5, "optimizer__momentum": 0.9, "optimizer__weight_decay": 1e-4}
ADAM = {"optimizer": "Adam", "batch_size": 16, "optimizer__lr": 3e-3, "module__activation": "PReLU", "module__init": "kaiming"}


def blob_images(n: int, seed: int = 0) -> np.ndarray:
    """Digit-like uint8 images: a bright random rectangle on black, flattened to 784 pixels."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    for img in images:
        r, c = rng.integers(2, 16, 2)
        img[r : r + rng.integers(4, 12), c : c + rng.integers(4, 12)] = rng.integers(128, 256)
    return images.reshape(n, 784)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return noisy_mnist(blob_images(200), n_images=200, augment=1, chunk_size=40, seed=0)


def weights(trainable: AutoencoderTrainable) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in trainable.net.module_.parameters()]


def assert_same_weights(a: AutoencoderTrainable, b: AutoencoderTrainable) -> None:
    for x, y in zip(weights(a), weights(b), strict=True):
        np.testing.assert_array_equal(x, y)


# -- noisy MNIST ---------------------------------------------------------------------------


def test_noise_is_seeded_clipped_and_varies_per_image() -> None:
    clean = np.full((200, 784), 0.5, dtype=np.float32)
    a, sig_a = add_noise(clean, 0.1, 0.1, np.random.default_rng(1))
    b, _ = add_noise(clean, 0.1, 0.1, np.random.default_rng(1))
    c, _ = add_noise(clean, 0.1, 0.1, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32
    assert np.all((sig_a >= 0.09) & (sig_a <= 0.11)) and sig_a.std() > 0.003
    measured = (a - clean).std(axis=1)
    assert np.corrcoef(measured, sig_a)[0, 1] > 0.8  # each image's noise follows its own sigma
    loud, _ = add_noise(clean, 2.0, 0.1, np.random.default_rng(3))
    assert loud.min() == 0.0 and loud.max() == 1.0


def test_pairs_dataset_splits_by_image_and_targets_are_clean() -> None:
    images = blob_images(100)
    ds = noisy_mnist(images, n_images=100, augment=3, val_fraction=0.2, test_fraction=0.1, chunk_size=50, seed=4)
    sizes = split_sizes(100, 0.2, 0.1)
    assert (len(ds.X_train), len(ds.X_val), len(ds.X_test)) == (3 * sizes.train, 3 * sizes.val, 3 * sizes.test)
    assert all(a.dtype == np.float32 for a in (ds.X_train, ds.y_train, ds.X_val, ds.y_val, ds.X_test, ds.y_test))
    unit = {row.tobytes() for row in images.astype(np.float32) / 255}
    assert all(row.tobytes() in unit for row in ds.y_val)
    train = {r.tobytes() for r in ds.y_train}
    assert not train & {r.tobytes() for r in ds.y_val} and not train & {r.tobytes() for r in ds.y_test}
    assert not np.array_equal(ds.X_train, ds.y_train)
    again = noisy_mnist(images, n_images=100, augment=3, val_fraction=0.2, test_fraction=0.1, seed=4, chunks_per_epoch=7)
    np.testing.assert_array_equal(ds.X_train, again.X_train)
    assert again.chunk_size == -(-len(again.X_train) // 7) and again.n_chunks == 7


def test_first_copy_does_not_depend_on_augment() -> None:
    clean = blob_images(10).astype(np.float32) / 255
    one, _ = make_pairs(clean, 1, 0.3, 0.1, np.random.default_rng(5))
    three, targets = make_pairs(clean, 3, 0.3, 0.1, np.random.default_rng(5))
    np.testing.assert_array_equal(one, three[:10])
    np.testing.assert_array_equal(targets[20:], clean)


# -- the trainable -------------------------------------------------------------------------


@pytest.mark.parametrize("config", [SGD, ADAM], ids=["sgd", "adam"])
def test_save_restore_resumes_exactly(data: Dataset, config: dict) -> None:
    straight = AutoencoderTrainable(config, data, 7, SPEC)
    straight.train(2)
    first = AutoencoderTrainable(config, data, 7, SPEC)
    first.train(1)
    state = first.save()
    resumed = AutoencoderTrainable({"optimizer": "SGD"}, data, 99, SPEC)  # a fresh one, restored
    resumed.seed = 7
    resumed.restore(state)
    assert resumed.steps == 1 and resumed.config == config
    resumed.train(1)
    assert_same_weights(straight, resumed)
    assert resumed.score() == straight.score()


def test_pickle_round_trip_continues(data: Dataset) -> None:
    straight = AutoencoderTrainable(SGD, data, 3, SPEC)
    straight.train(3)
    half = AutoencoderTrainable(SGD, data, 3, SPEC)
    half.train(2)
    blob = pickle.dumps(half)
    assert len(blob) < 10 * sum(w.nbytes for w in weights(half)) + 100_000  # the data is not in it
    copy = pickle.loads(blob)
    copy.attach(data)
    copy.train(1)
    assert copy.steps == 3
    assert_same_weights(straight, copy)


def _continue_elsewhere(blob: bytes, data: Dataset) -> tuple[list[np.ndarray], float, int]:
    trainable = pickle.loads(blob)
    trainable.attach(data)
    trainable.train(1)
    return weights(trainable), trainable.score(), os.getpid()


def test_trainable_continues_in_another_process(data: Dataset, dask_address: str) -> None:
    """The other process: a worker of the session's Dask cluster (the runs on Dask below use it too)."""
    from distributed import Client

    straight = AutoencoderTrainable(ADAM, data, 5, SPEC)
    straight.train(2)
    half = AutoencoderTrainable(ADAM, data, 5, SPEC)
    half.train(1)
    with Client(dask_address, set_as_default=False) as client:
        got, score, pid = client.submit(_continue_elsewhere, pickle.dumps(half), data, pure=False).result(timeout=120)
    assert pid != os.getpid()
    for x, y in zip(weights(straight), got, strict=True):
        np.testing.assert_array_equal(x, y)
    assert score == straight.score()


def test_same_seed_same_model_other_seed_differs(data: Dataset) -> None:
    a, b, c = (AutoencoderTrainable(SGD, data, s, SPEC) for s in (1, 1, 2))
    for t in (a, b, c):
        t.train(2)
    assert_same_weights(a, b)
    assert not np.array_equal(weights(a)[0], weights(c)[0])


def test_divergence_scores_worst_and_stops_training(data: Dataset) -> None:
    wild = AutoencoderTrainable({**SGD, "optimizer__lr": 1e30, "optimizer__momentum": 0.99}, data, 0, SPEC)
    wild.train(2)
    assert wild.diverged and wild.steps == 2
    assert wild.score() == DIVERGED_SCORE and wild.test_score() == DIVERGED_SCORE
    nan = AutoencoderTrainable(SGD, data, 0, SPEC)
    with torch.no_grad():
        next(nan.net.module_.parameters())[0, 0] = float("nan")
    nan.train(1)
    assert nan.diverged and nan.score() == DIVERGED_SCORE
    frozen = weights(nan)
    nan.train(3)  # a no-op that still counts steps
    assert nan.steps == 4
    for x, y in zip(frozen, weights(nan)):
        np.testing.assert_array_equal(x, y)
    restored = AutoencoderTrainable(SGD, data, 0, SPEC)
    restored.restore(nan.save())
    assert restored.diverged and restored.score() == DIVERGED_SCORE


def test_reset_config_keeps_optimizer_state(data: Dataset) -> None:
    t = AutoencoderTrainable(SGD, data, 0, SPEC)
    t.train(2)
    momentum = {k: v["momentum_buffer"].clone() for k, v in t.net.optimizer_.state.items()}
    t.reset_config({**SGD, "optimizer__lr": 0.05, "optimizer__momentum": 0.5, "batch_size": 64})
    group = t.net.optimizer_.param_groups[0]
    assert (group["lr"], group["momentum"], t.net.batch_size) == (0.05, 0.5, 64)
    for k, v in t.net.optimizer_.state.items():
        assert torch.equal(v["momentum_buffer"], momentum[k])
    restored = AutoencoderTrainable(SGD, data, 0, SPEC)
    restored.restore(t.save())
    assert restored.net.optimizer_.param_groups[0]["lr"] == 0.05 and restored.config["batch_size"] == 64


def test_reset_config_architecture_keys_rebuild_and_keep_weights(data: Dataset) -> None:
    t = AutoencoderTrainable(SGD, data, 0, SPEC)
    t.train(2)
    linear = weights(t)
    t.reset_config({**SGD, "module__activation": "PReLU", "optimizer": "Adam", "optimizer__lr": 1e-3})
    assert type(t.net.optimizer_).__name__ == "Adam" and t.steps == 2
    linear_now = [p.detach().numpy() for n, p in t.net.module_.named_parameters() if p.ndim == 2 or "bias" in n]
    for x, y in zip(linear, linear_now, strict=True):
        np.testing.assert_array_equal(x, y)
    t.train(1)
    assert t.score() > DIVERGED_SCORE


def test_bad_configs_name_the_key(data: Dataset) -> None:
    with pytest.raises(ValueError, match="unknown hyperparameter.*'lr'"):
        AutoencoderTrainable({"lr": 0.1}, data, 0, SPEC)
    with pytest.raises(ValueError, match="module__activation must be one of ReLU, LeakyReLU, PReLU, ELU, got 'Tanh'"):
        AutoencoderTrainable({"module__activation": "Tanh"}, data, 0, SPEC)
    with pytest.raises(ValueError, match="optimizer__momentum must be a number in \\[0, 1\\], got 1.5"):
        AutoencoderTrainable({"optimizer__momentum": 1.5}, data, 0, SPEC)
    with pytest.raises(ValueError, match="augment must be an integer >= 1, got 0"):
        AutoencoderWorkload(augment=0)
    with pytest.raises(ValueError, match="val_fraction must be a number in \\(0, 0.5\\], got 0.9"):
        AutoencoderWorkload(val_fraction=0.9)


def test_torch_threads_are_set(data: Dataset) -> None:
    AutoencoderTrainable(SGD, data, 0, ModelSpec(hidden=8, bottleneck=4, torch_threads=2))
    assert torch.get_num_threads() == 2
    AutoencoderTrainable(SGD, data, 0, SPEC)
    assert torch.get_num_threads() == 1


def test_paper_space() -> None:
    space = paper_space()
    rng = np.random.default_rng(0)
    samples = [space.sample(rng) for _ in range(700)]
    optimizers = Counter(s["optimizer"] for s in samples)
    assert 400 < optimizers["SGD"] < 600  # 5/7 of 700 = 500
    for s in samples:
        low, high = (10**-1.5, 10.0) if s["optimizer"] == "SGD" else (1e-4, 1e-1)
        assert low <= s["optimizer__lr"] <= high
        assert s["optimizer__weight_decay"] == 0 or 1e-5 <= s["optimizer__weight_decay"] <= 1e-3
    zeros = sum(s["optimizer__weight_decay"] == 0 for s in samples)
    assert 70 < zeros < 170  # 1/6 of 700 = 117
    assert {s["batch_size"] for s in samples} == {32, 64, 128, 256, 512}


# -- whole runs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("idx")
    write_idx_set(root, n_train=300, n_test=60)
    return root


SCHEDULERS = {
    "random": {"name": "random", "n_trials": 3, "max_iter": 3},
    "hyperband": {"name": "hyperband", "max_iter": 9, "eta": 3},
    "asha": {"name": "asha", "max_iter": 9, "grace": 1, "eta": 3, "n_trials": 8, "variant": "promotion"},
}


def experiment(idx_dir: Path, scheduler: dict, executor: dict | None = None) -> object:
    workload = {
        "name": "autoencoder",
        "data_dir": str(idx_dir),
        "n_images": 300,
        "augment": 1,
        "chunk_size": 60,
        "hidden": 32,
        "bottleneck": 8,
    }
    return load_experiment(
        raw={"seed": 0, "workload": workload, "scheduler": scheduler, "executor": executor or {"name": "local"}}
    )


@pytest.fixture(scope="module")
def local_runs(idx_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Any]:
    """Each scheduler's run on the local executor, made the first time a test asks for it."""
    root, done = tmp_path_factory.mktemp("local"), {}

    def get(name: str) -> Any:
        if name not in done:
            done[name] = run(experiment(idx_dir, SCHEDULERS[name]), root / name, progress=False)
        return done[name]

    return get


@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
def test_run_on_local(local_runs: Callable[[str], Any], scheduler: str) -> None:
    out = local_runs(scheduler)
    s = out.summary
    assert s["status"] == "completed" and s["metric"] == "neg_mse" and s["workload"] == "autoencoder"
    assert DIVERGED_SCORE <= s["best_score"] < 0 and DIVERGED_SCORE <= s["test_score"] < 0
    assert out.results["score"].between(DIVERGED_SCORE, 0).all()
    assert s["best_score"] == out.results["score"][out.results["trial_id"] == s["best_trial"]].iloc[-1]


def test_same_seed_same_hyperband_run(idx_dir: Path, local_runs: Callable[[str], Any], tmp_path: Path) -> None:
    again = run(experiment(idx_dir, SCHEDULERS["hyperband"]), tmp_path / "b", progress=False)
    cols = ["trial_id", "step", "score", "decision"]
    assert again.results[cols].equals(local_runs("hyperband").results[cols])


def assert_matches_local(out: Any, local: Any, name: str) -> None:
    """Hyperband and random search decide the same on every executor. ASHA's promotions follow
    arrival order, so only its learning curves must agree: a trial's score after ``k`` steps does
    not depend on where, or in how many Jobs, it ran."""
    assert out.summary["status"] == "completed"
    if name != "asha":
        assert run_fingerprint(out) == run_fingerprint(local), name
        return
    configs = dict(zip(local.trials["trial_id"], local.trials["config"]))
    assert all(configs.get(t, c) == c for t, c in zip(out.trials["trial_id"], out.trials["config"]))
    theirs = {(t, s): v for t, s, v in zip(local.results["trial_id"], local.results["step"], local.results["score"])}
    ours = {(t, s): v for t, s, v in zip(out.results["trial_id"], out.results["step"], out.results["score"])}
    common = theirs.keys() & ours.keys()
    assert len(common) >= 8 and all(theirs[k] == ours[k] for k in common)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_runs_on_dask_match_local(
    idx_dir: Path, tmp_path: Path, local_runs: Callable[[str], Any], dask_address: str, name: str
) -> None:
    executor = {"name": "dask", "n_workers": 2, "address": dask_address}
    out = run(experiment(idx_dir, SCHEDULERS[name], executor), tmp_path / name, progress=False)
    assert_matches_local(out, local_runs(name), name)


def test_hyperband_on_ray_matches_local(
    idx_dir: Path, tmp_path: Path, local_runs: Callable[[str], Any], ray_session: Any
) -> None:
    """One run on Ray: each run starts two actors that import torch, which costs far more than
    the run. Hyperband's is the strictest check (every decision and score equal); every scheduler
    is checked against local on Dask above, and ASHA on the Ray executor in tests/test_executor_ray.py."""
    pytest.importorskip("ray")
    out = run(experiment(idx_dir, SCHEDULERS["hyperband"], {"name": "ray", "n_workers": 2}), tmp_path / "ray", progress=False)
    assert_matches_local(out, local_runs("hyperband"), "hyperband")
