"""TensorFlow's "same" padding, shared by the networks rebuilt in torch from Keras and TFLite files.

TensorFlow pads a "same" convolution or pooling so that the output has ``ceil(size /
stride)`` cells, and puts the odd pixel of an uneven total at the end (bottom, right).
torch's symmetric ``padding=`` cannot express that; it matters for stride 2 on even
sizes (60 -> 30).

Examples
--------
>>> same_padding(60, kernel=3, stride=2, dilation=1)
(0, 1)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["pad_same", "same_padding"]


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's "same" mode along one axis.

    Parameters
    ----------
    size : int
        Input cells along the axis.
    kernel, stride, dilation : int
        The window along that axis.

    Returns
    -------
    tuple of int
        Cells added before and after; the odd one goes after.

    Examples
    --------
    >>> same_padding(64, kernel=3, stride=1, dilation=1)
    (1, 1)
    """
    output = -(-size // stride)
    total = max((output - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pad_same(
    x: torch.Tensor,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    value: float = 0.0,
) -> torch.Tensor:
    """Pad an ``(n, c, h, w)`` tensor as TensorFlow's "same" mode does before a window operation.

    Parameters
    ----------
    x : torch.Tensor
        ``(n, c, h, w)`` input.
    kernel, stride, dilation : sequence of 2 int
        The window, (height, width).
    value : float, default 0.0
        Fill value (``-inf`` before a max pooling, which ignores padded cells).

    Returns
    -------
    torch.Tensor
        ``x`` itself when no padding is needed.

    Examples
    --------
    >>> pad_same(torch.zeros(1, 1, 60, 60), (3, 3), (2, 2), (1, 1)).shape
    torch.Size([1, 1, 61, 61])
    """
    top, bottom = same_padding(x.shape[-2], kernel[0], stride[0], dilation[0])
    left, right = same_padding(x.shape[-1], kernel[1], stride[1], dilation[1])
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)
