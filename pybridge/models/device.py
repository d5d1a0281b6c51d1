"""Choosing the compute device and weight dtype.

Automatic choice: CUDA if available, else Apple MPS, else CPU; half precision on
accelerators (bfloat16 where CUDA supports it, as it keeps float32's range), float32
on CPU, where half precision is slower and less accurate.

Examples
--------
>>> import torch
>>> resolve_dtype("fp32", torch.device("cpu"))
torch.float32
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInputError

__all__ = ["resolve_device", "resolve_dtype", "dtype_name"]

_DTYPE_NAMES = {
    "float32": "float32", "fp32": "float32", "float": "float32",
    "float16": "float16", "fp16": "float16", "half": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
}  # fmt: skip


def resolve_device(device: Any = None):
    """Return the torch device to run on.

    Parameters
    ----------
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``; ``None`` or ``"auto"`` picks
        CUDA, then MPS, then CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    InvalidInputError
        The name is not a device, or that device is not available here.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    import torch

    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise InvalidInputError(f"device {device!r} is not a torch device name; use 'cpu', 'cuda', 'cuda:0' or 'mps'") from err
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("device 'cuda' was requested but torch sees no CUDA GPU here; use device='cpu'")
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
        raise InvalidInputError(f"device {device!r} does not exist: torch sees {torch.cuda.device_count()} CUDA GPU(s)")
    if chosen.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InvalidInputError("device 'mps' was requested but Apple MPS is not available here; use device='cpu'")
    if chosen.type not in ("cpu", "cuda", "mps"):
        raise InvalidInputError(f"device {device!r} is not supported; use 'cpu', 'cuda' or 'mps'")
    return chosen


def resolve_dtype(dtype: Any, device, default: str | None = None):
    """Return the torch dtype for the weights.

    Parameters
    ----------
    dtype : str or torch.dtype, optional
        ``"float32"``/``"fp32"``, ``"float16"``/``"fp16"``, ``"bfloat16"``/``"bf16"``
        or a torch dtype. ``None`` or ``"auto"`` uses ``default`` when given, else the
        device's natural choice.
    device : torch.device
        Where the model runs.
    default : str, optional
        The model spec's preferred dtype.

    Returns
    -------
    torch.dtype

    Raises
    ------
    InvalidInputError
        Unknown dtype name.

    Examples
    --------
    >>> import torch
    >>> resolve_dtype(None, torch.device("cpu"), default="float16")
    torch.float32
    """
    import torch

    if dtype is None or dtype == "auto":
        if device.type == "cpu":
            # half precision on CPU is slow and lossy; the spec's accelerator default does not apply
            return torch.float32
        if default is not None:
            return getattr(torch, _DTYPE_NAMES[default])
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16
    if isinstance(dtype, torch.dtype):
        if dtype not in (torch.float32, torch.float16, torch.bfloat16):
            raise InvalidInputError(f"dtype must be float32, float16 or bfloat16; got {dtype}")
        return dtype
    name = _DTYPE_NAMES.get(str(dtype).lower())
    if name is None:
        raise InvalidInputError(f"unknown dtype {dtype!r}; use 'float32', 'float16' or 'bfloat16'")
    return getattr(torch, name)


def dtype_name(dtype) -> str:
    """Return ``"float32"`` for ``torch.float32`` and so on.

    Parameters
    ----------
    dtype : torch.dtype

    Returns
    -------
    str

    Examples
    --------
    >>> import torch
    >>> dtype_name(torch.bfloat16)
    'bfloat16'
    """
    return str(dtype).removeprefix("torch.")
