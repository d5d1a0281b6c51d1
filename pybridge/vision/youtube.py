"""YouTube videos for video scoring, through the optional ``pytubefix`` package.

A YouTube page is not a video file: ``pytubefix`` finds the page's progressive MP4
stream, which is downloaded once into the pybridge cache (``youtube/<id>.mp4``) and
scored from there like any local file. A later call with the same URL uses the
cached file, also offline.

Install the extra with ``pip install "pybridge-emotion[youtube]"``.

Examples
--------
>>> youtube_video_id("https://www.youtube.com/watch?v=hdYNcv-chgY&ab_channel=X")
'hdYNcv-chgY'
>>> youtube_video_id("talk.mp4") is None
True
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import DownloadError, InvalidInputError, MissingDependencyError

__all__ = ["fetch_youtube_video", "resolve_video_source", "youtube_video_id"]

_YOUTUBE_ID = re.compile(
    r"^https?://(?:www\.|m\.)?(?:youtube\.com/(?:watch\?(?:.*&)?v=|shorts/|embed/|live/)|youtu\.be/)"
    r"([A-Za-z0-9_-]{11})"
)


def youtube_video_id(source: Any) -> str | None:
    """The 11-character video id of a YouTube URL, or ``None`` for anything else.

    Parameters
    ----------
    source : object

    Returns
    -------
    str or None

    Examples
    --------
    >>> youtube_video_id("https://youtu.be/hdYNcv-chgY")
    'hdYNcv-chgY'
    """
    if not isinstance(source, str):
        return None
    match = _YOUTUBE_ID.match(source.strip())
    return match.group(1) if match else None


def fetch_youtube_video(url: str, folder: str | os.PathLike | None = None) -> Path:
    """Download a YouTube video's MP4 stream (once) and return the local file.

    Parameters
    ----------
    url : str
        A YouTube watch, short, embed or youtu.be URL.
    folder : str or path-like, optional
        Where to keep the file; default ``youtube/`` in the pybridge cache.

    Returns
    -------
    pathlib.Path
        ``<folder>/<video id>.mp4``; an existing file is reused without network.

    Raises
    ------
    InvalidInputError
        ``url`` is not a YouTube video URL.
    MissingDependencyError
        ``pytubefix`` is not installed.
    DownloadError
        No network, the video is unavailable, or it has no progressive MP4 stream.

    Examples
    --------
    >>> fetch_youtube_video("https://youtu.be/hdYNcv-chgY")  # doctest: +SKIP
    PosixPath('.../youtube/hdYNcv-chgY.mp4')
    """
    video_id = youtube_video_id(url)
    if video_id is None:
        raise InvalidInputError(f"{url!r} is not a YouTube video URL")
    if folder is None:
        from ..models.cache import pybridge_cache_dir

        folder = pybridge_cache_dir() / "youtube"
    target = Path(folder) / f"{video_id}.mp4"
    if target.is_file() and target.stat().st_size > 0:
        return target
    try:
        from pytubefix import YouTube
    except ImportError as err:
        raise MissingDependencyError(
            f"scoring the YouTube video {url} needs the optional package pytubefix: "
            'pip install "pybridge-emotion[youtube]" (or download the video and pass the file)'
        ) from err
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        stream = YouTube(url).streams.filter(progressive=True, file_extension="mp4").get_highest_resolution()
        if stream is None:
            raise DownloadError(f"YouTube video {url} has no MP4 stream with video and audio to download")
        stream.download(output_path=str(target.parent), filename=target.name)
    except DownloadError:
        raise
    except Exception as err:  # pytubefix raises its own errors, urllib's and socket's
        target.unlink(missing_ok=True)
        raise DownloadError(
            f"could not download the YouTube video {url} ({type(err).__name__}: {err}); check the network "
            "connection and that the video is public, or download it yourself and pass the file"
        ) from err
    return target


def resolve_video_source(source: Any) -> Any:
    """A YouTube URL becomes its downloaded file (see :func:`fetch_youtube_video`);
    anything else is returned unchanged.

    Parameters
    ----------
    source : object

    Returns
    -------
    object

    Examples
    --------
    >>> resolve_video_source("talk.mp4")
    'talk.mp4'
    """
    return fetch_youtube_video(source) if youtube_video_id(source) is not None else source
