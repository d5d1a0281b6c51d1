"""The progress bar of every long-running loop (image, video and corpus scoring).

Examples
--------
>>> with progress_bar(3, False, unit="image", desc="scoring images") as bar:
...     bar.update(3)
True
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress_bar"]


def progress_bar(total: int, progress: bool | None, *, unit: str, desc: str, initial: int = 0) -> Any:
    """A tqdm bar, shown by default only on an interactive terminal.

    Logs and R consoles stay clean unless the user asks for the bar.

    Parameters
    ----------
    total : int
        Steps of the whole job.
    progress : bool or None
        ``True`` shows the bar, ``False`` hides it, ``None`` shows it when standard error
        is a terminal.
    unit : str
        What one step is (``"image"``, ``"frame"``, ``"video"``).
    desc : str
        Label in front of the bar.
    initial : int, default 0
        Steps already done (a resumed job).

    Returns
    -------
    tqdm.auto.tqdm
        Use as a context manager or call ``close()``.

    Examples
    --------
    >>> progress_bar(10, False, unit="video", desc="corpus", initial=4).n
    4
    """
    from tqdm.auto import tqdm

    show = progress if progress is not None else sys.stderr.isatty()
    return tqdm(total=total, initial=initial, unit=unit, desc=desc, disable=not show)
