"""Choosing the compute device and the numeric precision of the weights.

Automatic choice: CUDA if available, else Apple MPS, else CPU. Precision defaults to
``"fp32"`` on a CPU (exact and reproducible) and to ``"fp16"`` on a GPU (what OpenAI's
CLIP runs in on CUDA; its 10-bit mantissa keeps scores closer to fp32 than bf16's 7).

``precision="bf16"`` on a CPU halves the weights' memory and, on a CPU that computes
bfloat16 natively (Intel AMX or AVX512-BF16, e.g. Xeon Sapphire Rapids or AMD Zen 4
and later), runs the image encoder 3-5 times faster; scores move by at most about
0.01 (see the README's measurements). Where the CPU lacks both, torch would emulate
bfloat16 in software, which is slower than fp32 and no more exact, so pybridge refuses
with :class:`~pybridge.errors.PrecisionNotSupportedError` instead of quietly running
something other than what was asked; ``"fp16"`` on a CPU likewise needs AVX512-FP16 or
AMX-FP16.

Examples
--------
>>> import torch
>>> resolve_dtype("fp32", torch.device("cpu"))
torch.float32
>>> precision_name(torch.bfloat16)
'bf16'
"""

from __future__ import annotations

import functools
from typing import Any

from ..errors import InvalidInputError, PrecisionNotSupportedError

__all__ = [
    "PRECISIONS",
    "cpu_half_precision_support",
    "cpu_model_name",
    "dtype_name",
    "precision_name",
    "resolve_device",
    "resolve_dtype",
    "resolve_precision",
]

#: Accepted precision names (``precision=``); the torch dtype names and aliases also work.
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")

_DTYPE_NAMES = {
    "float32": "float32", "fp32": "float32", "float": "float32",
    "float16": "float16", "fp16": "float16", "half": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
}  # fmt: skip
_SHORT_NAMES = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


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
        raise InvalidInputError(
            f"device {device!r} is not a torch device name; use 'cpu', 'cuda', 'cuda:0' or 'mps'"
        ) from err
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("device 'cuda' was requested but torch sees no CUDA GPU here; use device='cpu'")
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
        raise InvalidInputError(f"device {device!r} does not exist: torch sees {torch.cuda.device_count()} CUDA GPU(s)")
    if chosen.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InvalidInputError("device 'mps' was requested but Apple MPS is not available here; use device='cpu'")
    if chosen.type not in ("cpu", "cuda", "mps"):
        raise InvalidInputError(f"device {device!r} is not supported; use 'cpu', 'cuda' or 'mps'")
    return chosen


def resolve_precision(precision: Any = None, dtype: Any = None):
    """Merge the ``precision=`` and (older) ``dtype=`` arguments into one request.

    Parameters
    ----------
    precision : str or torch.dtype, optional
        ``"fp32"``, ``"bf16"``, ``"fp16"`` (or a torch dtype, or its name).
    dtype : str or torch.dtype, optional
        The older name of the same setting.

    Returns
    -------
    str or None
        ``"float32"``, ``"bfloat16"``, ``"float16"``, or ``None`` when neither asks
        for anything (the device's default then applies).

    Raises
    ------
    InvalidInputError
        An unknown name, or ``precision`` and ``dtype`` asking for different things.

    Examples
    --------
    >>> resolve_precision("bf16") == resolve_precision(dtype="bfloat16") == "bfloat16"
    True
    """
    requested = [_canonical(value) for value in (precision, dtype)]
    if requested[0] is not None and requested[1] is not None and requested[0] != requested[1]:
        raise InvalidInputError(
            f"precision={precision!r} and dtype={dtype!r} disagree; pass only precision= ('fp32', 'bf16' or 'fp16')"
        )
    return requested[0] or requested[1]


def resolve_dtype(dtype: Any, device, default: str | None = None):
    """Return the torch dtype the weights are loaded in, checking that the device supports it.

    Parameters
    ----------
    dtype : str or torch.dtype, optional
        ``"fp32"``/``"float32"``, ``"bf16"``/``"bfloat16"``, ``"fp16"``/``"float16"``
        or a torch dtype. ``None`` or ``"auto"``: float32 on a CPU; on a GPU the
        spec's ``default`` when given, else float16.
    device : torch.device
        Where the model runs.
    default : str, optional
        The model spec's preferred dtype on accelerators.

    Returns
    -------
    torch.dtype

    Raises
    ------
    InvalidInputError
        Unknown dtype name.
    PrecisionNotSupportedError
        bfloat16 on a CPU without AMX or AVX512-BF16, float16 on a CPU without
        AVX512-FP16 or AMX-FP16, or bfloat16 on a GPU that lacks it.

    Examples
    --------
    >>> import torch
    >>> resolve_dtype(None, torch.device("cpu"), default="float16")
    torch.float32
    """
    import torch

    name = _canonical(dtype)
    if name is None:
        if device.type == "cpu":
            # the spec's default is an accelerator setting; fp32 is exact and reproducible on a CPU
            return torch.float32
        return getattr(torch, _DTYPE_NAMES[default] if default else "float16")
    if device.type == "cpu" and name != "float32":
        support = cpu_half_precision_support()[_SHORT_NAMES[name]]
        if support is None:
            raise PrecisionNotSupportedError(_cpu_refusal(_SHORT_NAMES[name]))
    if device.type == "cuda" and name == "bfloat16" and not torch.cuda.is_bf16_supported():
        raise PrecisionNotSupportedError(
            f"this GPU ({torch.cuda.get_device_name(device)}) does not compute bfloat16; use precision='fp16'"
        )
    return getattr(torch, name)


def precision_name(dtype) -> str:
    """Return the short precision name of a torch dtype, as ``precision=`` takes it.

    Parameters
    ----------
    dtype : torch.dtype
        float32, bfloat16 or float16 (any other dtype keeps its torch name).

    Returns
    -------
    str
        ``"fp32"``, ``"bf16"`` or ``"fp16"``.

    Examples
    --------
    >>> import torch
    >>> [precision_name(d) for d in (torch.float32, torch.bfloat16)]
    ['fp32', 'bf16']
    """
    name = dtype_name(dtype)
    return _SHORT_NAMES.get(name, name)


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


@functools.lru_cache(maxsize=1)
def cpu_half_precision_support() -> dict[str, str | None]:
    """Which CPU instructions compute bfloat16 and float16 natively here, detected at run time.

    Returns
    -------
    dict
        ``{"bf16": "AMX" | "AVX512-BF16" | None, "fp16": "AMX-FP16" | "AVX512-FP16" | None}``;
        ``None`` where the CPU has neither (torch would emulate the format in software).

    Examples
    --------
    >>> sorted(cpu_half_precision_support())
    ['bf16', 'fp16']
    """
    flags = _cpu_flags()
    cpu = _torch_cpu_checks()

    def has(check: str, flag: str) -> bool:
        # torch's own checks also ask the OS whether AMX tiles may be used; /proc/cpuinfo is the fallback
        function = getattr(cpu, check, None)
        if function is not None:
            try:
                return bool(function())
            except RuntimeError:
                pass
        return flag in flags

    bf16 = "AMX" if has("_is_amx_tile_supported", "amx_bf16") else None
    if bf16 is None and has("_is_avx512_bf16_supported", "avx512_bf16"):
        bf16 = "AVX512-BF16"
    fp16 = "AMX-FP16" if has("_is_amx_fp16_supported", "amx_fp16") else None
    if fp16 is None and "avx512_fp16" in flags:
        fp16 = "AVX512-FP16"
    return {"bf16": bf16, "fp16": fp16}


# ---------------------------------------------------------------------------- internals


def _canonical(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.lower() == "auto"):
        return None
    if not isinstance(value, str):
        text = str(value)
        if not text.startswith("torch."):
            raise InvalidInputError(f"precision must be 'fp32', 'bf16' or 'fp16'; got {value!r}")
        value = text.removeprefix("torch.")
    name = _DTYPE_NAMES.get(value.lower())
    if name is None:
        raise InvalidInputError(f"unknown precision {value!r}; use 'fp32', 'bf16' or 'fp16'")
    return name


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def _torch_cpu_checks():
    import torch

    return getattr(torch, "cpu", None)


def _cpu_refusal(precision: str) -> str:
    needs = "AMX or AVX512-BF16" if precision == "bf16" else "AVX512-FP16 or AMX-FP16"
    also = ""
    if precision == "fp16" and cpu_half_precision_support()["bf16"] is not None:
        also = " or precision='bf16' (this CPU computes bfloat16 natively)"
    return (
        f"precision='{precision}' on a CPU needs {needs} instructions, which this CPU ({cpu_model_name()}) "
        f"lacks; torch would emulate {precision} in software, slower than fp32. Use precision='fp32'{also}, "
        "or a GPU (device='cuda')"
    )


def cpu_model_name() -> str:
    """The CPU's model name as the OS reports it (``"unknown CPU"`` when it does not).

    Returns
    -------
    str

    Examples
    --------
    >>> isinstance(cpu_model_name(), str)
    True
    """
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
