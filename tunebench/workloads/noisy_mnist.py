"""Noisy MNIST for denoising: pairs of (noisy image, clean image), split by source image.

After Sievert, Augspurger & Rocklin (SciPy 2019, "Parallel Experiments"): every MNIST image gets
``augment`` noisy copies (the paper: 5, so 350,000 pairs from 70,000 images); the input is the
image scaled to [0, 1] plus Gaussian noise, clipped back to [0, 1]; the target is the clean
image. The noise level "varies slightly between images": image ``i`` gets standard deviation
``sigma_i = noise * U(1 - spread, 1 + spread)``. The default ``noise=0.35`` with ``spread=0.1``
spans 0.315..0.385, matching the paper's code, which draws the noise variance from
U(0.10, 0.15) (standard deviation 0.32..0.39).

Images, not pairs, are split into train / validation / test, so no digit appears (with other
noise) on both sides of a split. Everything is seeded; all arrays are float32. These are pure
functions: the workload (:mod:`tunebench.workloads.autoencoder`) calls them.

>>> rng = np.random.default_rng(0)
>>> clean = np.full((4, 784), 0.5, dtype=np.float32)
>>> noisy, sigmas = add_noise(clean, 0.3, 0.1, rng)
>>> noisy.dtype, bool(noisy.min() >= 0 and noisy.max() <= 1), bool(np.all((sigmas >= 0.27) & (sigmas <= 0.33)))
(dtype('float32'), True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tunebench.workloads.base import Dataset

DEFAULT_NOISE = 0.35
DEFAULT_SPREAD = 0.1
PAPER_SIZES = {"n_images": 70_000, "augment": 5, "test_fraction": 0.05, "val_fraction": 0.19, "chunk_size": 20_780}


@dataclass(frozen=True)
class SplitSizes:
    """How many source images go to each split."""

    train: int
    val: int
    test: int


def split_sizes(n_images: int, val_fraction: float, test_fraction: float) -> SplitSizes:
    """Images per split: at least one each for validation and test, the rest for training.

    >>> split_sizes(10_000, 0.2, 0.05)
    SplitSizes(train=7500, val=2000, test=500)
    """
    test = max(1, round(n_images * test_fraction))
    val = max(1, round(n_images * val_fraction))
    train = n_images - val - test
    if train < 1:
        raise ValueError(f"n_images={n_images} leaves no training image after {val} validation and {test} test images")
    return SplitSizes(train, val, test)


def split_images(n_total: int, sizes: SplitSizes, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a random subset of ``n_total`` images, divided into train, validation, test."""
    need = sizes.train + sizes.val + sizes.test
    if need > n_total:
        raise ValueError(f"asked for {need} images, only {n_total} available")
    order = rng.permutation(n_total)[:need]
    return order[: sizes.train], order[sizes.train : sizes.train + sizes.val], order[sizes.train + sizes.val :]


def noise_sigmas(n: int, noise: float, spread: float, rng: np.random.Generator) -> np.ndarray:
    """Per-image noise standard deviations ``noise * U(1 - spread, 1 + spread)``."""
    return (noise * rng.uniform(1.0 - spread, 1.0 + spread, size=n)).astype(np.float32)


def add_noise(clean: np.ndarray, noise: float, spread: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``clip(clean + sigma_i * N(0, 1), 0, 1)`` row by row; returns (noisy float32, sigmas)."""
    sigmas = noise_sigmas(len(clean), noise, spread, rng)
    noisy = rng.standard_normal(clean.shape, dtype=np.float32)
    noisy *= sigmas.reshape((-1,) + (1,) * (clean.ndim - 1))
    noisy += clean
    np.clip(noisy, 0.0, 1.0, out=noisy)
    return noisy, sigmas


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 pixels to float32 in [0, 1] (``image / 255``)."""
    return images.astype(np.float32) / np.float32(255.0)


def make_pairs(
    clean: np.ndarray, augment: int, noise: float, spread: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``augment`` noisy copies of every clean image: (noisy inputs, clean targets), copy by copy.

    Row ``c * len(clean) + i`` is copy ``c`` of image ``i``, so a chunk of consecutive rows holds
    distinct images. Copy ``c`` draws from the ``c``-th child stream of ``rng``, so the first
    copies do not depend on how many follow.
    """
    n = len(clean)
    targets = np.tile(clean, (augment, 1))
    inputs = np.empty_like(targets)
    for c, child in enumerate(rng.spawn(augment)):
        inputs[c * n : (c + 1) * n], _ = add_noise(clean, noise, spread, child)
    return inputs, targets


def noisy_mnist(
    images: np.ndarray,
    *,
    n_images: int,
    augment: int = 1,
    noise: float = DEFAULT_NOISE,
    spread: float = DEFAULT_SPREAD,
    val_fraction: float = 0.2,
    test_fraction: float = 0.05,
    chunk_size: int | None = None,
    chunks_per_epoch: int = 8,
    seed: int = 0,
) -> Dataset:
    """A :class:`Dataset` of noisy/clean pairs from ``n_images`` of ``images`` (uint8, flat rows).

    One step trains on ``chunk_size`` pairs; without one, on ``1 / chunks_per_epoch`` of the
    training pairs, so a step budget means the same number of epochs at any data size.
    ``y_*`` hold the clean images; every split gets ``augment`` copies of each of its images.
    The split and each split's noise come from separate seeded streams, so for one seed the
    first copy of every validation and test image is the same whatever ``augment`` is.
    """
    sizes = split_sizes(n_images, val_fraction, test_fraction)
    split_seed, *noise_seeds = np.random.SeedSequence(seed).spawn(4)
    parts = split_images(len(images), sizes, np.random.default_rng(split_seed))
    arrays: list[np.ndarray] = []
    for idx, seq in zip(parts, noise_seeds):
        clean = to_unit(images[idx]).reshape(len(idx), -1)
        arrays += list(make_pairs(clean, augment, noise, spread, np.random.default_rng(seq)))
    n_train = len(arrays[0])
    return Dataset(*arrays, chunk_size=chunk_size or -(-n_train // chunks_per_epoch))


def pairs_summary(data: Dataset) -> dict[str, float]:
    """Sizes and the mean squared noise of each split (the MSE of the identity map: a baseline)."""
    out: dict[str, float] = {k: float(v) for k, v in data.sizes().items()}
    for name, X, y in (("val", data.X_val, data.y_val), ("test", data.X_test, data.y_test)):
        out[f"{name}_identity_mse"] = float(np.mean((X - y) ** 2))
    return out


__all__ = ["noisy_mnist", "add_noise", "make_pairs", "split_sizes", "split_images", "noise_sigmas", "to_unit", "pairs_summary"]
