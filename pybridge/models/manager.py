"""Loading, caching and unloading models.

:func:`get_model` turns an alias (or a local folder) into a loaded model, once:
later calls with the same arguments return the same object, so scoring many
images or videos never reloads weights. Device and dtype are chosen automatically
unless forced; hub weights are looked up in the cache before anything is loaded
(see :mod:`pybridge.models.cache`), so a machine without network fails at once
with :class:`~pybridge.errors.ModelNotAvailableError` instead of hanging.

Examples
--------
>>> from pybridge.models.manager import loaded_models
>>> isinstance(loaded_models(), list)
True
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from ..errors import (
    InvalidInputError,
    ModelLoadError,
    ModelNotAvailableError,
    QuantizationNotSupportedError,
    library_errors,
)
from .backend_table import backend_names, get_backend
from .cache import resolve_snapshot
from .device import dtype_name, resolve_device, resolve_dtype, resolve_precision
from .registry import ModelSpec, builtin_aliases, get_model_spec, spec_for_local_path

__all__ = ["get_model", "load_model", "loaded_models", "resolve_spec", "unload_model"]

_LOADED: dict[tuple, Any] = {}
_LOCK = threading.RLock()


def resolve_spec(model: str | ModelSpec = "oai-base", local_model_path: str | os.PathLike | None = None) -> ModelSpec:
    """Return the spec that ``get_model(model, local_model_path)`` would load.

    Parameters
    ----------
    model : str or ModelSpec, default "oai-base"
        Alias or spec.
    local_model_path : str or path-like, optional
        Folder (or FER ``.hdf5`` file) that replaces the alias's weights, as in
        transforEmotion. An alias that is not registered is then just a name.

    Returns
    -------
    ModelSpec

    Raises
    ------
    UnknownModelError
        Unknown alias and no ``local_model_path``.
    ModelNotAvailableError
        ``local_model_path`` does not exist.

    Examples
    --------
    >>> resolve_spec("oai-large").source
    'openai/clip-vit-large-patch14'
    """
    if local_model_path is None:
        return model if isinstance(model, ModelSpec) else get_model_spec(model)
    base: ModelSpec | None
    if isinstance(model, ModelSpec):
        base = model
    else:
        try:
            base = get_model_spec(model)
        except LookupError:
            base = None
    path = Path(local_model_path).expanduser()
    if not path.exists():
        raise ModelNotAvailableError(
            f"local_model_path {os.fspath(local_model_path)!r} does not exist; point it at a folder saved with "
            "save_pretrained() (transformers) or holding open_clip_config.json and weights (open_clip)"
        )
    return spec_for_local_path(path, base, alias=model if isinstance(model, str) else None)


def get_model(
    model: str | ModelSpec = "oai-base",
    local_model_path: str | os.PathLike | None = None,
    *,
    device: Any = None,
    dtype: Any = None,
    quantization: str | None = None,
    trust_remote_code: bool | None = None,
    precision: Any = None,
):
    """Load a model, or return the already-loaded one.

    Parameters
    ----------
    model : str or ModelSpec, default "oai-base"
        Registered alias (see :func:`pybridge.list_models`) or a spec.
    local_model_path : str or path-like, optional
        Load from this folder instead of the alias's hub source.
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ``"mps"``; automatic by default.
    dtype : str or torch.dtype, optional
        Older name of ``precision`` (``"float32"``, ``"float16"``, ``"bfloat16"``).
    quantization : {None, "nf4", "none"}, optional
        ``"nf4"`` loads the weights in 4 bits with bitsandbytes; ``"none"`` turns
        off a spec's default quantisation; ``None`` keeps the spec's default,
        which applies on CUDA only.
    trust_remote_code : bool, optional
        Allow checkpoint code to run; by default only for aliases whose spec says so
        and, for built-in aliases, only at a pinned commit (``revision``), so that
        code published upstream later never runs unasked (``eva-8B`` has no pinned
        commit and needs ``True``).
    precision : {None, "fp32", "bf16", "fp16"}, optional
        Numeric precision the weights are loaded in (straight from the checkpoint, no
        float32 copy). Default: ``"fp32"`` on a CPU; on a GPU the spec's dtype, else
        ``"fp16"``. ``"bf16"`` on a CPU needs AMX or AVX512-BF16 (see
        :mod:`pybridge.models.device`).

    Returns
    -------
    LoadedEmbeddingModel or LoadedClassifier
        Cached: the same arguments return the same object until
        :func:`unload_model`.

    Raises
    ------
    UnknownModelError
        Unknown alias.
    ModelNotAvailableError
        Weights are not cached and cannot be downloaded now (offline).
    ModelLoadError
        Weights that do not load, or custom code without permission.
    QuantizationNotSupportedError
        4-bit loading is not possible on this platform or backend.
    PrecisionNotSupportedError
        The device does not compute the requested precision natively.
    InvalidInputError
        Unknown device or precision, or ``precision`` and ``dtype`` that disagree.
    DownloadError
        Downloading the weights failed.

    Examples
    --------
    >>> model = get_model("oai-base")  # doctest: +SKIP
    >>> model.encode_texts(["happy", "sad"]).shape  # doctest: +SKIP
    torch.Size([2, 512])
    """
    spec = resolve_spec(model, local_model_path)
    torch_device = resolve_device(device)
    quant = _resolve_quantization(spec, quantization, torch_device)
    torch_dtype = resolve_dtype(resolve_precision(precision, dtype), torch_device, spec.dtype)
    # By default a built-in alias runs its checkpoint's own code only at a pinned commit, so new
    # upstream code never runs unasked; user aliases were trusted at registration; True overrides.
    pinned = spec.is_local or bool(spec.revision) or spec.alias not in builtin_aliases()
    trust = spec.trust_remote_code and pinned if trust_remote_code is None else bool(trust_remote_code)
    key = (
        spec.alias,
        spec.backend,
        spec.source,
        spec.revision,
        str(torch_device),
        dtype_name(torch_dtype),
        quant,
        trust,
    )
    with _LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            loaded = _load(spec, torch_device, torch_dtype, quant, trust)
            _LOADED[key] = loaded
    return loaded


#: Same as :func:`get_model` (the name transforEmotion users look for).
load_model = get_model


def unload_model(alias: str | None = None) -> int:
    """Release loaded models and their memory.

    Parameters
    ----------
    alias : str, optional
        Unload only this alias (every device/dtype variant); all models when ``None``.

    Returns
    -------
    int
        Number of loaded models released.

    Examples
    --------
    >>> unload_model("nothing-loaded")
    0
    """
    with _LOCK:
        keys = [key for key in _LOADED if alias is None or key[0] == alias]
        for key in keys:
            del _LOADED[key]
    if keys:
        gc.collect()
        _empty_accelerator_cache()
    return len(keys)


def loaded_models() -> list[dict[str, Any]]:
    """Describe the models held in memory.

    Returns
    -------
    list of dict
        One dict per loaded model: alias, source, device, dtype, quantization.

    Examples
    --------
    >>> loaded_models() == [] or "alias" in loaded_models()[0]
    True
    """
    with _LOCK:
        return [
            {"alias": key[0], "source": key[2], "device": key[4], "dtype": key[5], "quantization": key[6]}
            for key in _LOADED
        ]


# ---------------------------------------------------------------------------- internals


def _resolve_quantization(spec: ModelSpec, quantization: str | None, device) -> str | None:
    if quantization in ("none", False):
        return None
    if quantization is None:
        # a spec's 4-bit default is a GPU-memory measure; on CPU it would only cost accuracy
        if spec.quantization is None or device.type != "cuda":
            return None
        quantization = spec.quantization
    if quantization != "nf4":
        raise InvalidInputError(f"quantization must be None, 'none' or 'nf4'; got {quantization!r}")
    if quantization not in get_backend(spec.backend).quantizations:
        supporting = [name for name in backend_names() if quantization in get_backend(name).quantizations]
        raise QuantizationNotSupportedError(
            f"4-bit NF4 quantization works for {' and '.join(supporting)} models only; {spec.alias!r} uses the {spec.backend} "
            "backend. Use quantization=None (and dtype='float16' on a GPU to save memory)"
        )
    if device.type == "mps":
        raise QuantizationNotSupportedError(
            "bitsandbytes 4-bit quantization does not run on Apple MPS; use quantization=None with dtype='float16'"
        )
    missing = [name for name in ("bitsandbytes", "accelerate") if importlib.util.find_spec(name) is None]
    if missing:
        raise QuantizationNotSupportedError(
            f"4-bit NF4 quantization needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not "
            f"installed: pip install 'pybridge-emotion[quant]'. Or load without it: quantization='none' "
            f"(with dtype='float16' on a GPU; {spec.alias!r} then needs about {_unquantised_memory(spec)})"
        )
    return "nf4"


def _unquantised_memory(spec: ModelSpec) -> str:
    if spec.approx_memory_gb is None:
        return "4x the 4-bit memory"
    return f"{spec.approx_memory_gb * 2:g} GB in float16"


def _load(spec: ModelSpec, device, dtype, quantization: str | None, trust_remote_code: bool):
    backend = get_backend(spec.backend)
    loader = backend.function("loader")
    if not backend.hub_weights:  # the backend finds its own weights
        return loader(spec, device, dtype)
    if spec.is_local:
        folder = Path(spec.source)
        if not folder.is_dir():
            raise ModelNotAvailableError(f"model folder {spec.source!r} of {spec.alias!r} does not exist")
    else:
        repo = spec.hub_repo
        assert repo is not None  # hub weights of a non-local spec always name a repository
        folder = resolve_snapshot(repo, spec.revision, weights_prefix=backend.weights_prefix)
    # Whatever a damaged checkpoint makes the libraries raise (safetensors, pickle, JSON, OS errors)
    # arrives as one typed error; pybridge's own errors pass through.
    with library_errors(
        f"could not load model {spec.alias!r} from {os.fspath(folder)!r}",
        "check that the folder holds a complete checkpoint (config.json, weights, processor files), or remove "
        "and download it again (`pybridge models remove ALIAS`, then `pybridge models download ALIAS`)",
        ModelLoadError,
    ):
        return loader(spec, folder, device, dtype, quantization, trust_remote_code)


def _empty_accelerator_cache() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
