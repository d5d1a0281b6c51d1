"""torch's intra-op threads, set in one place, and kept at one in forked children.

torch's CPU kernels run on an OpenMP thread pool (GNU libgomp in the official Linux
wheels). libgomp does not survive ``fork()``: a child whose parent has already run a
parallel torch operation hangs for ever in its first parallel operation (measured:
a convolution in a child of ``os.fork()`` never returns). Python's ``multiprocessing``
forks by default on Linux before Python 3.14, so a researcher who scores images and
then hands work to a process pool would see the pool hang.

Importing pybridge registers a fork hook: in a forked child, torch (if it is loaded)
is set to one thread, and :func:`set_torch_threads` / :func:`torch_threads` never give
it more there. One thread per child is also what process pools want (the children
share the cores). Processes started with ``spawn`` or ``forkserver`` are unaffected.

Examples
--------
>>> with torch_threads(1):
...     import torch
...     torch.get_num_threads()
1
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["in_forked_child", "set_torch_threads", "torch_threads"]

_forked_child = False


def _one_thread_after_fork() -> None:
    global _forked_child
    _forked_child = True
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


if hasattr(os, "register_at_fork"):  # every POSIX Python; Windows has no fork
    os.register_at_fork(after_in_child=_one_thread_after_fork)


def in_forked_child() -> bool:
    """Whether this process was forked from one that had imported pybridge.

    Returns
    -------
    bool

    Examples
    --------
    >>> in_forked_child()
    False
    """
    return _forked_child


def set_torch_threads(threads: int) -> int:
    """Set torch's intra-op threads (one in a forked child, see the module's notes).

    Parameters
    ----------
    threads : int
        Threads wanted (at least 1).

    Returns
    -------
    int
        The threads torch now uses.

    Raises
    ------
    ValueError
        ``threads`` below 1 (from torch).

    Examples
    --------
    >>> set_torch_threads(1)
    1
    """
    import torch

    torch.set_num_threads(1 if _forked_child else int(threads))
    return torch.get_num_threads()


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, then restore the previous number.

    torch's OpenMP setting belongs to the calling thread, so this is safe to use in a
    worker thread. In a forked child the block runs on one thread.

    Parameters
    ----------
    threads : int
        Threads for the block.

    Yields
    ------
    None

    Examples
    --------
    >>> import torch
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    """
    import torch

    previous = torch.get_num_threads()
    wanted = 1 if _forked_child else int(threads)
    if previous == wanted:
        yield
        return
    torch.set_num_threads(wanted)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
