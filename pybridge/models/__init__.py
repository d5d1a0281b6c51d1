"""Model management: the alias registry, loading, caching, download and removal.

The functions here are the public face of :mod:`pybridge.models` (re-exported by
:mod:`pybridge`): list the known models, register your own, inspect, download,
load and unload them. Listing and inspecting never import torch.

Examples
--------
>>> from pybridge.models import list_models
>>> "oai-base" in set(list_models()["alias"])
True
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .backend_table import backend_names, get_backend
from .cache import cached_snapshot, delete_cached_repo, download_snapshot, pybridge_cache_dir
from .manager import get_model, load_model, loaded_models, unload_model
from .registry import (
    ModelSpec,
    all_specs,
    backend_for_hub_id,
    detect_backend,
    get_model_spec,
    register_user_model,
    spec_for_local_path,
    unregister_user_model,
)

__all__ = [
    "ModelSpec",
    "download_model",
    "get_model",
    "get_model_spec",
    "list_models",
    "load_model",
    "model_info",
    "register_model",
    "remove_model",
    "unload_model",
]


def list_models():
    """List every registered model alias.

    Returns
    -------
    pandas.DataFrame
        One row per alias: ``alias``, ``backend``, ``family``, ``source``,
        ``trust_remote_code``, ``quantization``, ``approx_memory_gb``, ``cached``
        (weights available without network), ``user`` (registered by you) and
        ``description``.

    Examples
    --------
    >>> list_models().columns[:3].tolist()
    ['alias', 'backend', 'family']
    """
    import pandas as pd

    rows = [
        {
            "alias": spec.alias,
            "backend": spec.backend,
            "family": spec.family,
            "source": spec.source,
            "trust_remote_code": spec.trust_remote_code,
            "quantization": spec.quantization,
            "approx_memory_gb": spec.approx_memory_gb,
            "cached": _weights_location(spec) is not None,
            "user": spec.user,
            "description": spec.description,
        }
        for spec in all_specs().values()
    ]
    return pd.DataFrame(rows)


def register_model(
    alias: str,
    source: str | os.PathLike,
    backend: str | None = None,
    *,
    revision: str | None = None,
    trust_remote_code: bool = False,
    family: str | None = None,
    quantization: str | None = None,
    overwrite: bool = False,
) -> ModelSpec:
    """Register your own model under an alias (persisted across sessions).

    Parameters
    ----------
    alias : str
        New name, e.g. ``"my-clip"``; letters, digits, ``.``, ``_``, ``-``.
    source : str or path-like
        Hugging Face hub id (``"org/name"``), open_clip hub id
        (``"hf-hub:org/name"``) or a local folder.
    backend : {"transformers", "open_clip"}, optional
        Detected from a local folder (``config.json`` -> transformers,
        ``open_clip_config.json`` -> open_clip); for hub ids ``hf-hub:`` means
        open_clip, anything else transformers.
    revision : str, optional
        Hub branch, tag or commit to pin.
    trust_remote_code : bool, default False
        Allow the checkpoint's own code to run when loading.
    family : {"clip", "siglip", "jina", "eva", "custom"}, optional
        Read from the folder's config or guessed from the id (``siglip`` in the name
        -> SigLIP); ``"custom"`` for custom-code checkpoints.
    quantization : {None, "nf4"}, optional
        Default 4-bit quantisation on CUDA.
    overwrite : bool, default False
        Replace an existing user alias.

    Returns
    -------
    ModelSpec

    Raises
    ------
    InvalidInputError
        Bad alias, built-in alias, existing alias without ``overwrite``, missing
        folder, or an unknown backend/family.

    Examples
    --------
    >>> register_model("my-clip", "org/my-clip")  # doctest: +SKIP
    ModelSpec(alias='my-clip', backend='transformers', source='org/my-clip', ...)
    """
    text = os.fspath(source)
    local = Path(text).expanduser()
    if local.exists() or os.path.isabs(text) or text.startswith((".", "~")):
        if not local.exists():
            raise InvalidInputError(f"model folder {text!r} does not exist")
        text = os.fspath(local.resolve())
        backend = backend or detect_backend(text)
        family = family or spec_for_local_path(text, backend=backend).family
    else:
        owner, _, name = text.removeprefix("hf-hub:").partition("/")
        if not owner or not name or "/" in name:
            raise InvalidInputError(
                f"source {text!r} is neither an existing folder nor a hub id of the form 'org/name' "
                "(or 'hf-hub:org/name' for open_clip)"
            )
        backend = backend or backend_for_hub_id(text)
        family = family or ("siglip" if "siglip" in text.lower() else "custom" if trust_remote_code else "clip")
    registrable = [name for name in backend_names() if get_backend(name).user_registrable]
    if backend not in registrable:
        raise InvalidInputError(f"backend must be {' or '.join(map(repr, registrable))}; got {backend!r}")
    spec = ModelSpec(
        alias=alias,
        backend=backend,
        source=text,
        revision=revision,
        trust_remote_code=bool(trust_remote_code),
        family=family,
        quantization=quantization,
        description=f"registered by the user ({text})",
    )
    return register_user_model(spec, overwrite=overwrite)


def remove_model(alias: str, *, cached_weights: bool = True) -> dict[str, Any]:
    """Unregister a user alias and/or delete downloaded weights.

    Parameters
    ----------
    alias : str
        Any alias. A user alias is unregistered; a built-in one stays registered.
    cached_weights : bool, default True
        Also delete the alias's weights from the Hugging Face cache (hub models) or
        the pybridge cache (``cnn-fer``). Local folders are never deleted.

    Returns
    -------
    dict
        ``{"alias", "unregistered", "bytes_freed"}``.

    Raises
    ------
    UnknownModelError
        Unknown alias.

    Examples
    --------
    >>> remove_model("oai-base", cached_weights=False)["unregistered"]
    False
    """
    spec = get_model_spec(alias)
    unload_model(alias)
    freed = 0
    if cached_weights:
        cache_subdir = get_backend(spec.backend).cache_subdir
        if cache_subdir is not None:
            folder = pybridge_cache_dir() / cache_subdir
            if folder.is_dir():
                freed = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
                shutil.rmtree(folder)
        elif spec.hub_repo is not None:
            freed = delete_cached_repo(spec.hub_repo)
    unregistered = False
    if spec.user:
        unregister_user_model(alias)
        unregistered = True
    return {"alias": alias, "unregistered": unregistered, "bytes_freed": freed}


def model_info(alias: str) -> dict[str, Any]:
    """Describe one alias: its spec, where its weights are, whether it is loaded.

    Parameters
    ----------
    alias : str

    Returns
    -------
    dict
        The spec fields (``registered_at`` for user aliases) plus ``cached`` (bool),
        ``weights_path`` (str or None), ``loaded`` (bool),
        ``requires_special_handling`` (the checkpoint runs its own code) and
        ``preprocessing_config`` (``face_crop``, ``processor_source``, ``image_size``
        and ``processor``, the cached checkpoint's image-processor settings or
        None).

    Raises
    ------
    UnknownModelError
        Unknown alias (a Hugging Face id is described without registering it).

    Examples
    --------
    >>> model_info("cnn-fer")["face_crop"]
    'tight'
    """
    spec = get_model_spec(alias)
    location = _weights_location(spec)
    info = spec.to_dict()
    info["cached"] = location is not None
    info["weights_path"] = os.fspath(location) if location is not None else None
    info["loaded"] = any(entry["alias"] == alias for entry in loaded_models())
    # transforEmotion's names: checkpoints that run their own code need special handling
    info["requires_special_handling"] = spec.trust_remote_code
    info["preprocessing_config"] = _preprocessing_config(spec, location)
    return info


def _preprocessing_config(spec: ModelSpec, location: Path | None) -> dict[str, Any]:
    """How faces are prepared for a model: crop, forced processor and size, and the
    checkpoint's own image-processor settings when its files are on this machine."""
    import json

    processor = None
    # older checkpoints: preprocessor_config.json; newer: processor_config.json's "image_processor"
    for name, key in (("preprocessor_config.json", None), ("processor_config.json", "image_processor")):
        path = location / name if location is not None and location.is_dir() else None
        if processor is None and path is not None and path.is_file():
            try:
                content = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            processor = content.get(key) if key is not None and isinstance(content, dict) else content
    return {
        "face_crop": spec.face_crop,
        "processor_source": spec.processor_source,
        "image_size": spec.image_size,
        "processor": processor,
    }


def download_model(alias: str) -> Path:
    """Fetch an alias's weights into the local cache (no-op when cached).

    Parameters
    ----------
    alias : str

    Returns
    -------
    pathlib.Path
        Folder holding the weights.

    Raises
    ------
    UnknownModelError
        Unknown alias.
    ModelNotAvailableError
        Offline (``HF_HUB_OFFLINE=1``) and not cached, or a local folder that is gone.
    DownloadError
        The download failed.

    Examples
    --------
    >>> download_model("oai-base")  # doctest: +SKIP
    PosixPath('.../models--openai--clip-vit-base-patch32/snapshots/...')
    """
    from ..errors import ModelNotAvailableError

    spec = get_model_spec(alias)
    backend = get_backend(spec.backend)
    if not backend.hub_weights:
        return Path(backend.function("download_weights")())
    if spec.is_local:
        if not Path(spec.source).exists():
            raise ModelNotAvailableError(f"the local folder {spec.source!r} of {alias!r} does not exist")
        return Path(spec.source)
    if spec.processor_source is not None and cached_snapshot(spec.processor_source) is None:
        download_snapshot(spec.processor_source)
    repo = spec.hub_repo
    assert repo is not None  # hub weights of a non-local spec always name a repository
    return cached_snapshot(repo, spec.revision) or download_snapshot(
        repo, spec.revision, weights_prefix=backend.weights_prefix
    )


def _weights_location(spec: ModelSpec) -> Path | None:
    backend = get_backend(spec.backend)
    if not backend.hub_weights:
        found = backend.function("find_weights")(spec.source)
        return Path(found) if found is not None else None
    if spec.is_local:
        return Path(spec.source) if Path(spec.source).exists() else None
    repo = spec.hub_repo
    assert repo is not None  # hub weights of a non-local spec always name a repository
    return cached_snapshot(repo, spec.revision)
