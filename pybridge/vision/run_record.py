"""What defines a run's result, recorded beside its output so a rerun cannot mix results.

``video_scores(out=..., resume=True)`` and :func:`pybridge.score_corpus` continue
earlier work. They may only do so when everything that decides the numbers is the
same as before: the input files (path, size and modification time), labels,
sampling, model and its revision, face detector, precision, and any setting added
later. The record is built generically from the call's arguments and the scorer's
provenance, minus a short list of settings that change how fast a run goes but not
its result (:data:`NOT_RESULT_DEFINING`), so a new argument takes part without
anyone having to remember to add it.

Examples
--------
>>> settings = result_settings({"nframes": 10, "batch_size": 8, "labels": ["happy", "sad"]})
>>> settings
{'labels': ['happy', 'sad'], 'nframes': 10}
>>> differences(settings, {**settings, "nframes": 20})
['nframes: 10 before, 20 now']
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError, library_errors
from .images import is_url

__all__ = [
    "NOT_RESULT_DEFINING",
    "differences",
    "input_identity",
    "read_record",
    "result_settings",
    "write_record",
]

#: Arguments and provenance entries that do not change a run's numbers: where the
#: rows go, how they are shown, how many are computed at once, where a model runs
#: and which library multiplies its float32 matrices (its dtype and precision do
#: count), and library versions.
NOT_RESULT_DEFINING: frozenset[str] = frozenset(
    {"video", "videos", "out", "resume", "save_frames", "progress", "batch_size", "device", "packages",
     "n_workers", "scheduler", "trust_remote_code", "cpu_matmul"}
)  # fmt: skip


def input_identity(source: str | os.PathLike) -> dict[str, Any]:
    """Identify an input file by path, size and modification time (URLs by their text).

    Parameters
    ----------
    source : str or path-like

    Returns
    -------
    dict
        ``{"path", "size", "mtime_ns"}`` for a local file (``size`` None when it is
        missing), ``{"url"}`` for an http(s) URL.

    Examples
    --------
    >>> input_identity("https://example.org/a.mp4")
    {'url': 'https://example.org/a.mp4'}
    """
    text = os.fspath(source)
    if is_url(text):
        return {"url": text}
    try:
        status = Path(text).stat()
    except OSError:
        return {"path": os.path.abspath(text), "size": None, "mtime_ns": None}
    return {"path": os.path.abspath(text), "size": status.st_size, "mtime_ns": status.st_mtime_ns}


def result_settings(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The result-defining part of a run's arguments or provenance, as plain JSON values.

    Parameters
    ----------
    arguments : mapping
        Argument names to values (paths become strings, tuples lists, other objects
        their ``repr``).

    Returns
    -------
    dict
        Sorted by key, without :data:`NOT_RESULT_DEFINING`.

    Examples
    --------
    >>> result_settings({"out": "x.csv", "ffreq": 15})
    {'ffreq': 15}
    """
    kept = {key: value for key, value in sorted(arguments.items()) if key not in NOT_RESULT_DEFINING}
    return json.loads(json.dumps(kept, default=_plain))


def differences(before: Mapping[str, Any], now: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Name every entry that differs between two records, ``"key: <before> before, <now> now"``.

    Parameters
    ----------
    before, now : mapping
        Records from :func:`result_settings` (nested mappings are compared key by key).
    prefix : str, default ""
        Added before nested keys.

    Returns
    -------
    list of str
        Empty when the records agree.

    Examples
    --------
    >>> differences({"a": {"b": 1}}, {"a": {"b": 2}})
    ['a.b: 1 before, 2 now']
    """
    found = []
    for key in sorted(set(before) | set(now), key=str):
        old, new = before.get(key, "<unset>"), now.get(key, "<unset>")
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            found.extend(differences(old, new, f"{prefix}{key}."))
        elif old != new:
            found.append(f"{prefix}{key}: {_short(old)} before, {_short(new)} now")
    return found


def read_record(path: Path, restart: str) -> dict[str, Any]:
    """Read a run record written by :func:`write_record`.

    Parameters
    ----------
    path : pathlib.Path
    restart : str
        How to start over, for the error message.

    Returns
    -------
    dict

    Raises
    ------
    InvalidInputError
        The file is missing, unreadable, not JSON, or not a JSON object.

    Examples
    --------
    >>> read_record(Path("missing.run.json"), "delete it")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    pybridge.errors.InvalidInputError: ...
    """
    if not path.is_file():
        raise InvalidInputError(
            f"the record of the earlier run ({os.fspath(path)!r}) is missing, so pybridge cannot check that the "
            f"results were made with the same inputs and settings; {restart}"
        )
    with library_errors(f"the record of the earlier run {os.fspath(path)!r} is damaged", restart):
        record = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(record, dict):
        raise InvalidInputError(f"the record of the earlier run {os.fspath(path)!r} is not a JSON object; {restart}")
    return record


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    """Write a run record atomically (a temporary file renamed into place).

    Parameters
    ----------
    path : pathlib.Path
    record : mapping
        Plain JSON values.

    Raises
    ------
    InvalidInputError
        The folder cannot be written.

    Examples
    --------
    >>> write_record(Path("scores.csv.run.json"), {"nframes": 10})  # doctest: +SKIP
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with library_errors(f"cannot write {os.fspath(path)!r}", "choose an output location you can write to"):
        temporary.write_text(json.dumps(record, indent=1, default=_plain), encoding="utf-8")
        os.replace(temporary, path)


def _plain(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return repr(value)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
