"""Bounds on waiting and on memory: connect timeouts, deadlines and size caps.

Every network call pybridge makes (model hub, image and video URLs, a Dask
scheduler) and every decoded image is bounded by one of these limits, so no input
and no network state can make a call hang or exhaust memory. Each limit is read
from its environment variable when it is needed, so it can be changed at any
time, also from R (``Sys.setenv``):

=============================  ==========  ===================================================
variable                       default     bounds
=============================  ==========  ===================================================
``PYBRIDGE_CONNECT_TIMEOUT``   10 s        connecting to a server, and each wait for more data
``PYBRIDGE_REQUEST_DEADLINE``  25 s        one whole request: hub metadata (``model_info``),
                                           an image URL's body, the connection to a Dask
                                           scheduler
``PYBRIDGE_DOWNLOAD_DEADLINE`` 3600 s      downloading a model's files from the hub;
                                           streaming one video URL (each reading handle)
``PYBRIDGE_MAX_URL_BYTES``     104857600   bytes read from one image URL (100 MiB)
``PYBRIDGE_MAX_IMAGE_PIXELS``  89478485    pixels (width x height) of one decoded image or
                                           video frame; Pillow's own warning threshold
=============================  ==========  ===================================================

A server that accepts a connection and never answers therefore ends in a
:class:`~pybridge.errors.DownloadError` after the connect timeout, and one that
sends a byte now and then ends at the request deadline.

Examples
--------
>>> import os
>>> os.environ["PYBRIDGE_REQUEST_DEADLINE"] = "5"
>>> limit("PYBRIDGE_REQUEST_DEADLINE")
5.0
>>> del os.environ["PYBRIDGE_REQUEST_DEADLINE"]
>>> limit("PYBRIDGE_REQUEST_DEADLINE")
25.0
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import InvalidInputError

__all__ = ["LIMITS", "limit", "run_with_deadline"]

T = TypeVar("T")

#: Every limit's environment variable and default value.
LIMITS: dict[str, float] = {
    "PYBRIDGE_CONNECT_TIMEOUT": 10.0,
    "PYBRIDGE_REQUEST_DEADLINE": 25.0,
    "PYBRIDGE_DOWNLOAD_DEADLINE": 3600.0,
    "PYBRIDGE_MAX_URL_BYTES": float(100 * 2**20),
    "PYBRIDGE_MAX_IMAGE_PIXELS": 89_478_485.0,
}


def limit(variable: str) -> float:
    """The current value of one limit: its environment variable, or the default.

    Parameters
    ----------
    variable : str
        A key of :data:`LIMITS`, e.g. ``"PYBRIDGE_CONNECT_TIMEOUT"``.

    Returns
    -------
    float
        Seconds, bytes or pixels.

    Raises
    ------
    InvalidInputError
        ``variable`` is not a limit, or it is set to something other than a
        positive number.

    Examples
    --------
    >>> limit("PYBRIDGE_MAX_IMAGE_PIXELS")
    89478485.0
    """
    if variable not in LIMITS:
        raise InvalidInputError(f"{variable!r} is not one of pybridge's limits: {', '.join(LIMITS)}")
    text = os.environ.get(variable)
    if text is None or not text.strip():
        return LIMITS[variable]
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(
            f"environment variable {variable}={text!r} must be a positive number; unset it for the default "
            f"{LIMITS[variable]:g}"
        )
    return value


def run_with_deadline(function: Callable[[], T], seconds: float, timeout_error: Callable[[], Exception]) -> T:
    """Call ``function`` on a daemon thread and give up after ``seconds``.

    For library calls that cannot be given a total deadline themselves (a hub
    download whose server sends a byte now and then). The caller gets its answer
    or ``timeout_error()`` in time; a call left running holds only its thread,
    which the process does not wait for at exit.

    Parameters
    ----------
    function : callable
        Called without arguments.
    seconds : float
        The deadline.
    timeout_error : callable
        Builds the exception raised when the deadline passes.

    Returns
    -------
    object
        What ``function`` returned.

    Raises
    ------
    Exception
        ``timeout_error()`` after the deadline, or whatever ``function`` raised.

    Examples
    --------
    >>> run_with_deadline(lambda: 42, 1.0, lambda: TimeoutError("late"))
    42
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = function()
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = err

    worker = threading.Thread(target=target, name="pybridge-deadline", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise timeout_error()
    if "error" in box:
        raise box["error"]
    return box["value"]
