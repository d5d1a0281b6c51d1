"""What every benchmark prints about the machine it ran on (CPU, bf16 support, load)."""

from __future__ import annotations

import os


def describe_machine() -> str:
    """One line: CPU model, cores, native bf16/fp16 instructions, AMX presence, load average.

    Returns
    -------
    str
    """
    from pybridge.models.device import _cpu_flags, cpu_half_precision_support, cpu_model_name

    support = cpu_half_precision_support()
    flags = _cpu_flags()
    amx = "yes" if {"amx_bf16", "amx_tile"} & flags else "no"
    avx512_bf16 = "yes" if "avx512_bf16" in flags else "no"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"CPU: {cpu_model_name()}, {os.cpu_count()} cores; AMX: {amx}; AVX512-BF16: {avx512_bf16}; "
        f"native bf16: {support['bf16'] or 'none'}; native fp16: {support['fp16'] or 'none'}; load average: {load}"
    )


def bf16_available() -> bool:
    """Whether pybridge runs precision='bf16' on this CPU."""
    from pybridge.models.device import cpu_half_precision_support

    return cpu_half_precision_support()["bf16"] is not None
