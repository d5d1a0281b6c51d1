"""Float32 matrix products on the CPU through oneDNN instead of torch's BLAS.

torch computes a float32 ``linear`` / ``addmm`` / ``mm`` on the CPU with its BLAS,
which in the official wheels is Intel MKL. MKL dispatches its AVX-512 kernels only on
Intel CPUs: on an AMD EPYC (Zen 5, AVX-512) it runs the AVX2 code, measured here at
107 GFLOP/s per core against oneDNN's 239 GFLOP/s for the same float32 product (800 x
768 by 768 x 3072). oneDNN (the library torch already uses for convolutions and for
bfloat16 matrix products) picks its kernels by the instructions the CPU has, not by
its vendor. Routing the float32 products of a model through oneDNN makes a ViT-B/32
image encoder 1.7x faster on that CPU; the products stay float32 with float32
accumulation (results agree with BLAS's to about 3e-6, the size of any change of
summation order), so ``precision="fp32"`` keeps its meaning.

:func:`onednn_matmul` is a context manager that does this for the current thread (a
torch dispatch mode, so it reaches every backend, transformers' and open_clip's
alike). It is a no-op where it cannot help or cannot be trusted: other dtypes, GPU
tensors, a torch built without oneDNN, or a oneDNN product that fails a first check
against BLAS. Set ``PYBRIDGE_CPU_MATMUL=blas`` to keep torch's own choice.

Examples
--------
>>> import torch
>>> layer = torch.nn.Linear(8, 4)
>>> x = torch.randn(3, 8)
>>> with onednn_matmul():
...     y = layer(x)
>>> torch.allclose(y, layer(x), atol=1e-5)
True
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import InvalidInputError

__all__ = ["cpu_matmul_library", "onednn_matmul"]

#: Environment variable that chooses the library: ``"onednn"`` (default) or ``"blas"``.
CPU_MATMUL_VARIABLE = "PYBRIDGE_CPU_MATMUL"


def cpu_matmul_library() -> str:
    """Which library computes float32 matrix products on the CPU inside :func:`onednn_matmul`.

    Returns
    -------
    str
        ``"onednn"`` when the products are routed through oneDNN, ``"blas"`` when torch's
        own BLAS computes them (``PYBRIDGE_CPU_MATMUL=blas``, no oneDNN in this torch,
        or oneDNN failed its check against BLAS).

    Raises
    ------
    InvalidInputError
        ``PYBRIDGE_CPU_MATMUL`` is set to something other than ``onednn`` or ``blas``.

    Examples
    --------
    >>> cpu_matmul_library() in ("onednn", "blas")
    True
    """
    choice = os.environ.get(CPU_MATMUL_VARIABLE, "").strip().lower() or "onednn"
    if choice not in ("onednn", "blas"):
        raise InvalidInputError(
            f"environment variable {CPU_MATMUL_VARIABLE}={os.environ[CPU_MATMUL_VARIABLE]!r} must be 'onednn' or "
            "'blas'; unset it for the default 'onednn'"
        )
    if choice == "blas":
        return "blas"
    return "onednn" if _onednn_checked() else "blas"


@contextlib.contextmanager
def onednn_matmul() -> Iterator[None]:
    """Compute this thread's float32 CPU matrix products with oneDNN while the block runs.

    Covers ``torch.nn.functional.linear`` and the ``addmm`` / ``mm`` products against a
    transposed weight that layers compile to; every other operation, dtype and device
    runs as before. ``torch.nn.MultiheadAttention``'s fused fast path (which would keep
    its products inside one C++ kernel) is switched off inside the block so that
    open_clip's attention projections are covered too.

    Yields
    ------
    None

    Raises
    ------
    InvalidInputError
        ``PYBRIDGE_CPU_MATMUL`` holds an unknown value. Where oneDNN is unavailable or
        untrusted the block runs unchanged rather than failing.

    Examples
    --------
    >>> import torch
    >>> with onednn_matmul():
    ...     torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3)).shape
    torch.Size([2, 4])
    """
    if cpu_matmul_library() != "onednn":
        yield
        return
    _hold_attention_fast_path_off()
    try:
        with _dispatch_mode_class()():
            yield
    finally:
        _release_attention_fast_path()


# The dispatch mode is per thread, but MultiheadAttention's fast-path switch is global:
# the first block to enter turns it off, the last to leave restores the user's setting.
_fast_path_lock = threading.Lock()
_fast_path_holders = 0
_fast_path_saved = True


def _hold_attention_fast_path_off() -> None:
    global _fast_path_holders, _fast_path_saved
    import torch

    with _fast_path_lock:
        if _fast_path_holders == 0:
            _fast_path_saved = torch.backends.mha.get_fastpath_enabled()
            torch.backends.mha.set_fastpath_enabled(False)
        _fast_path_holders += 1


def _release_attention_fast_path() -> None:
    global _fast_path_holders
    import torch

    with _fast_path_lock:
        _fast_path_holders -= 1
        if _fast_path_holders == 0:
            torch.backends.mha.set_fastpath_enabled(_fast_path_saved)


@functools.lru_cache(maxsize=1)
def _dispatch_mode_class() -> type:
    # built on first use so that importing pybridge does not import torch
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    aten = torch.ops.aten
    linear_pointwise = torch.ops.mkldnn._linear_pointwise.default

    def linear_operands(func: Any, args: tuple, kwargs: dict) -> tuple[Any, Any, Any] | None:
        """``(inputs, weight, bias)`` when the call is a linear layer's product, else None."""
        if func is aten.linear.default:
            return args[0], args[1], args[2] if len(args) > 2 else kwargs.get("bias")
        # addmm(bias, x, W.t()) and mm(x, W.t()) are what linear layers compile to; other
        # forms (a 2-d bias, beta/alpha, a plain right-hand matrix) keep BLAS
        if func is aten.addmm.default and not kwargs and len(args) == 3 and args[0].dim() == 1:
            bias, inputs, weight = args[0], args[1], args[2].t()
        elif func is aten.mm.default and not kwargs:
            bias, inputs, weight = None, args[0], args[1].t()
        else:
            return None
        return (inputs, weight, bias) if weight.is_contiguous() else None

    def routable(inputs: Any, weight: Any, bias: Any) -> bool:
        # a dispatch mode runs below autograd, so tensors that require grad are fine here;
        # oneDNN refuses empty products (no rows, features or outputs): torch does those
        tensors = (inputs, weight) if bias is None else (inputs, weight, bias)
        return (
            all(t.dtype == torch.float32 and t.device.type == "cpu" and t.layout == torch.strided for t in tensors)
            and inputs.numel() > 0
            and weight.dim() == 2
            and weight.numel() > 0
        )

    class OneDnnMatmulMode(TorchDispatchMode):
        """Send float32 CPU linear/addmm/mm products to oneDNN (see :func:`onednn_matmul`)."""

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            operands = linear_operands(func, args, kwargs)
            if operands is not None and routable(*operands):
                return linear_pointwise(*operands, "none", [], "")
            return func(*args, **kwargs)

    return OneDnnMatmulMode


@functools.lru_cache(maxsize=1)
def _onednn_checked() -> bool:
    """Whether oneDNN's float32 linear exists here and agrees with BLAS on a test product."""
    try:
        import torch

        if not torch.backends.mkldnn.is_available():
            return False
        generator = torch.Generator().manual_seed(0)
        inputs = torch.randn(37, 96, generator=generator)
        weight = torch.randn(80, 96, generator=generator)
        bias = torch.randn(80, generator=generator)
        expected = torch.nn.functional.linear(inputs.double(), weight.double(), bias.double())
        got = torch.ops.mkldnn._linear_pointwise(inputs, weight, bias, "none", [], "")
        # float32 accumulation of 96 products of unit normals: errors near 1e-5, not 1e-2
        return got.dtype == torch.float32 and bool(torch.allclose(got.double(), expected, rtol=0, atol=1e-3))
    except Exception:  # any failure means: keep torch's own BLAS path
        return False
