"""Reading images from paths, URLs, PIL images and arrays into RGB.

Every reader returns an RGB :class:`PIL.Image.Image` with its EXIF orientation
applied, so a photo taken with a rotated phone is scored upright, as a person
would see it. Failures raise :class:`~pybridge.errors.ImageReadError` (local
files, arrays) or :class:`~pybridge.errors.DownloadError` (http(s) URLs) with a
message naming the input.

Pixel formats are shown as an image viewer shows them: transparent pixels (RGBA,
LA, palette with transparency) are composited on white; palette, CMYK, YCbCr and
1-bit images go through Pillow's conversion; CIELAB through an sRGB transform;
16-bit and 32-bit integer grey images are scaled by their format's range (65535 to
255) and float images in [0, 1] by 255, other float ranges by their actual minimum
and maximum (Pillow's own conversion would clip them at 255).

Bounds (see :mod:`pybridge.limits`): an image whose header announces more than
``PYBRIDGE_MAX_IMAGE_PIXELS`` pixels is refused before it is decoded; an image URL
must connect and keep sending within ``PYBRIDGE_CONNECT_TIMEOUT``, deliver its body
within ``PYBRIDGE_REQUEST_DEADLINE`` and be at most ``PYBRIDGE_MAX_URL_BYTES`` long.

Examples
--------
>>> import numpy as np
>>> from pybridge.vision.images import load_image
>>> load_image(np.zeros((4, 6, 3), dtype=np.uint8)).size
(6, 4)
"""

from __future__ import annotations

import io
import os
import re
import struct
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeGuard, cast

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DownloadError, ImageReadError, InvalidInputError
from ..limits import limit

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageSource",
    "check_media_file",
    "describe_source",
    "fetch_url",
    "is_url",
    "list_image_files",
    "load_image",
    "to_rgb_array",
]

#: File-name endings treated as images when a folder is listed.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".jfif", ".ppm", ".pgm"}
)

ImageSource = str | os.PathLike | Image.Image | np.ndarray


def is_url(source: Any) -> TypeGuard[str]:
    """Tell whether ``source`` is an http(s) URL.

    Parameters
    ----------
    source : object
        Anything; only strings can be URLs.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_url("https://example.org/a.jpg"), is_url("a.jpg")
    (True, False)
    """
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def describe_source(source: Any, index: int | None = None) -> str:
    """Name an image input for the ``image`` column of a result table.

    Paths and URLs keep their text; in-memory images are named by their position.

    Parameters
    ----------
    source : str, path-like, PIL.Image.Image or numpy.ndarray
        The input.
    index : int, optional
        Position of the input in the user's list (used for in-memory images).

    Returns
    -------
    str

    Examples
    --------
    >>> describe_source("faces/a.jpg"), describe_source(np.zeros((2, 2)), 3)
    ('faces/a.jpg', '<array 3>')
    """
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    kind = "PIL image" if isinstance(source, Image.Image) else "array"
    return f"<{kind} {index}>" if index is not None else f"<{kind}>"


def load_image(source: ImageSource, *, timeout: float | None = None) -> Image.Image:
    """Read one image as an upright RGB PIL image.

    Parameters
    ----------
    source : str, path-like, PIL.Image.Image or numpy.ndarray
        A file path, an http(s) URL, a PIL image, or an array of shape
        ``(height, width)`` (grey), ``(height, width, 3)`` (RGB) or
        ``(height, width, 4)`` (RGBA; alpha is dropped). Arrays are uint8, or
        floats in ``[0, 1]``.
    timeout : float, optional
        Seconds to wait for an http(s) server to connect and for each further
        piece of the answer; default ``PYBRIDGE_CONNECT_TIMEOUT`` (10 s). The whole
        body must arrive within ``PYBRIDGE_REQUEST_DEADLINE`` (25 s) and be at most
        ``PYBRIDGE_MAX_URL_BYTES`` (100 MiB) long (see :mod:`pybridge.limits`).

    Returns
    -------
    PIL.Image.Image
        RGB image with its EXIF orientation applied.

    Raises
    ------
    ImageReadError
        The file is missing, empty, not an image, or corrupt; it has more pixels
        than ``PYBRIDGE_MAX_IMAGE_PIXELS``; or the array has an unusable shape or
        value range.
    DownloadError
        A URL could not be fetched (connection failure, timeout, HTTP error status,
        deadline passed, body over the size cap).
    InvalidInputError
        ``source`` is of a type that is not an image.

    Examples
    --------
    >>> from PIL import Image
    >>> load_image(Image.new("L", (3, 2))).mode
    'RGB'
    """
    if isinstance(source, Image.Image):
        return _upright_rgb(source, describe_source(source))
    if isinstance(source, np.ndarray):
        return Image.fromarray(to_rgb_array(source))
    if is_url(source):
        return _decode_bytes(fetch_url(source, timeout), source)
    if isinstance(source, (str, os.PathLike)):
        return _read_file(Path(source))
    raise InvalidInputError(
        f"cannot read an image from a {type(source).__name__}; pass a file path, an http(s) URL, "
        "a PIL image or a numpy array"
    )


def to_rgb_array(image: ImageSource | np.ndarray) -> np.ndarray:
    """Convert an image or array to a contiguous ``(height, width, 3)`` uint8 RGB array.

    Parameters
    ----------
    image : PIL.Image.Image or numpy.ndarray or str or path-like
        Arrays may be grey ``(h, w)``, ``(h, w, 1)``, RGB or RGBA; uint8, uint16
        (scaled by 65535 / 255), other integers in 0-255, bool, or float in
        ``[0, 1]``. Alpha is dropped. Anything else is read with :func:`load_image`
        first.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape ``(height, width, 3)``.

    Raises
    ------
    ImageReadError
        The array's shape, dtype or value range is not an image's.

    Examples
    --------
    >>> to_rgb_array(np.ones((2, 3), dtype=float)).shape
    (2, 3, 3)
    """
    if not isinstance(image, np.ndarray):
        return np.asarray(load_image(image))
    array = image
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) == 0:
        raise ImageReadError(
            f"an image array must have shape (height, width), (height, width, 3) or (height, width, 4) "
            f"with height and width > 0; got shape {image.shape}"
        )
    array = array[:, :, :3]
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
            raise ImageReadError(
                "a float image array must hold finite values in [0, 1]; scale it (or pass uint8 0-255)"
            )
        return np.ascontiguousarray(np.round(array * 255.0).astype(np.uint8))
    if array.dtype == np.uint16:
        # 16-bit data, scaled by the format's range (65535 -> 255) as image libraries show it
        return np.ascontiguousarray(np.round(array / 257.0).astype(np.uint8))
    if np.issubdtype(array.dtype, np.integer) or array.dtype == bool:
        if array.min() < 0 or array.max() > 255:
            raise ImageReadError(f"an integer image array must hold values in 0-255; got {array.min()}..{array.max()}")
        return np.ascontiguousarray(array.astype(np.uint8))
    raise ImageReadError(f"an image array must be uint8 or float; got dtype {array.dtype}")


def list_image_files(folder: str | os.PathLike, pattern: str | None = None, recursive: bool = False) -> list[Path]:
    """List the image files in a folder, sorted by path.

    Parameters
    ----------
    folder : str or path-like
        The folder to list.
    pattern : str, optional
        Glob on file names (e.g. ``"*.jpg"``). Without it, every file whose
        extension is in :data:`IMAGE_EXTENSIONS` is taken. With it, every matching
        file is taken, so a matching non-image still gets a row saying why it could
        not be read.
    recursive : bool, default False
        Also search sub-folders.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    ImageReadError
        The folder does not exist, or holds no (matching) image files.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "a.png").write_bytes(b"")
    ...     [p.name for p in list_image_files(d)]
    ['a.png']
    """
    root = Path(folder)
    if not root.is_dir():
        raise ImageReadError(f"folder {os.fspath(folder)!r} does not exist or is not a folder")
    candidates: Iterable[Path] = root.rglob(pattern or "*") if recursive else root.glob(pattern or "*")
    files = sorted(
        path
        for path in candidates
        if path.is_file()
        and not path.name.startswith(".")
        and (pattern is not None or path.suffix.lower() in IMAGE_EXTENSIONS)
    )
    if not files:
        what = f"files matching {pattern!r}" if pattern else "image files (" + ", ".join(sorted(IMAGE_EXTENSIONS)) + ")"
        where = " (searched recursively)" if recursive else " (pass recursive=True to search sub-folders)"
        raise ImageReadError(f"folder {os.fspath(folder)!r} holds no {what}{where}")
    return files


def check_media_file(
    path: Path, kind: str, error: type[Exception], *, folder_hint: str = "", empty_hint: str = ""
) -> None:
    """Raise ``error`` unless ``path`` is a non-empty file (an image or video to read).

    Parameters
    ----------
    path : pathlib.Path
    kind : {"image", "video"}
        What the file should be, for the messages.
    error : type of Exception
        :class:`~pybridge.errors.ImageReadError` or
        :class:`~pybridge.errors.VideoReadError`.
    folder_hint, empty_hint : str, optional
        What to do instead, appended to the folder and empty-file messages.

    Returns
    -------
    None

    Raises
    ------
    Exception
        ``error``, when the path is missing, a folder or an empty file.

    Examples
    --------
    >>> check_media_file(Path("no-such.jpg"), "image", ImageReadError)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    pybridge.errors.ImageReadError: image file not found: 'no-such.jpg' does not exist; check the path
    """
    name = repr(os.fspath(path))
    if not path.exists():
        raise error(f"{kind} file not found: {name} does not exist; check the path")
    if path.is_dir():
        raise error(f"{name} is a folder, not {'an' if kind[0] in 'aeiou' else 'a'} {kind} file{folder_hint}")
    if path.stat().st_size == 0:
        raise error(f"{kind} file {name} is empty (0 bytes){empty_hint}")


# ---------------------------------------------------------------------------- internals


def _read_file(path: Path) -> Image.Image:
    check_media_file(path, "image", ImageReadError, folder_hint="; use image_scores_dir() or pass the folder itself")
    return _decode(path, repr(os.fspath(path)))


def _decode_bytes(data: bytes, name: str) -> Image.Image:
    if not data:
        raise ImageReadError(f"{name!r} returned no data (0 bytes)")
    return _decode(io.BytesIO(data), f"the image from {name!r}")


def _decode(source: Path | io.BytesIO, name: str) -> Image.Image:
    """Open, check the size against the pixel cap before decoding, decode, convert."""
    cap = int(limit("PYBRIDGE_MAX_IMAGE_PIXELS"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # pybridge's own cap applies
            with Image.open(source) as image:
                width, height = image.size
                if width * height > cap:
                    raise ImageReadError(_too_many_pixels(name, width, height, cap))
                # load() forces decoding now, so truncated files fail here and not later
                image.load()
                return _upright_rgb(image, name)
    except Image.DecompressionBombError as err:
        size = re.search(r"\((\d+) pixels\)", str(err))
        raise ImageReadError(_too_many_pixels(name, int(size.group(1)) if size else None, None, cap)) from None
    except UnidentifiedImageError:
        raise ImageReadError(
            f"{name} is not an image file that Pillow can read (JPEG, PNG, BMP, GIF, TIFF, WebP, ...)"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
        raise ImageReadError(f"image {name} is corrupt or truncated: {err}") from err


def _too_many_pixels(name: str, width: int | None, height: int | None, cap: int) -> str:
    size = (
        f"{width} x {height} pixels"
        if height is not None
        else (f"{width:,} pixels" if width is not None else "too many pixels")
    )
    return (
        f"image {name} has {size}, more than the limit of {cap:,} pixels that protects memory "
        "(about 15 bytes per pixel while decoding); shrink it, or raise the limit with the environment "
        "variable PYBRIDGE_MAX_IMAGE_PIXELS"
    )


def _upright_rgb(image: Image.Image, name: str) -> Image.Image:
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a malformed EXIF block must not make the pixels unreadable
        upright = image
    upright = upright if upright is not None else image
    if upright.mode in _HIGH_DEPTH_MODES:
        return _high_depth_to_rgb(upright, name)
    try:
        if upright.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
            upright.mode == "P" and "transparency" in upright.info
        ):
            # composite on white, as image viewers show it, instead of keeping the hidden colour under alpha 0
            rgba = upright if upright.mode == "RGBA" else upright.convert("RGBA")
            background = Image.new("RGB", upright.size, (255, 255, 255))
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background
        if upright.mode == "LAB":
            from PIL import ImageCms

            lab_to_rgb = ImageCms.buildTransform(
                ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
            )
            # not in place (inPlace=False), so a new image always comes back
            return cast(Image.Image, ImageCms.applyTransform(upright, lab_to_rgb))
        return upright.convert("RGB")
    except (ValueError, OSError) as err:
        raise ImageReadError(
            f"image {name} has pixel format {upright.mode!r}, which cannot be shown as RGB: {err}"
        ) from err


#: Pillow modes with more than 8 bits per sample; see :func:`_high_depth_to_rgb`.
_HIGH_DEPTH_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})


def _high_depth_to_rgb(image: Image.Image, name: str) -> Image.Image:
    """Grey images of more than 8 bits scaled to 0-255, as image viewers show them.

    Pillow's own ``convert("RGB")`` clips these at 255, which turns most of a 16-bit
    photo white. Integer data is scaled by its format's range: 16-bit modes by
    65535; 32-bit integers holding values up to 255 are kept, up to 65535 are taken
    as 16-bit, larger ones are scaled by their actual range. Float data in [0, 1] is
    multiplied by 255; other float data is scaled by its actual range (min to 0,
    max to 255). Non-finite floats are an error.
    """
    array = np.asarray(image)
    if image.mode == "F":
        if not np.isfinite(array).all():
            raise ImageReadError(f"image {name} holds NaN or infinite values; it has no displayable pixels")
        low, high = float(array.min()), float(array.max())
        if low >= 0.0 and high <= 1.0:
            low, high = 0.0, 1.0
        grey = _scaled_to_bytes(array, low, high)
    else:
        low, high = int(array.min(initial=0)), int(array.max(initial=0))
        if image.mode == "I" and (low < 0 or high > 65535):
            grey = _scaled_to_bytes(array, low, high)
        elif image.mode == "I" and high <= 255:
            grey = array.astype(np.uint8)
        else:  # 16-bit data: 65535 -> 255, rounded, in integers (4 bytes a pixel at most)
            grey = ((array.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return Image.fromarray(grey, mode="L").convert("RGB")


def _scaled_to_bytes(array: np.ndarray, low: float, high: float) -> np.ndarray:
    """``low`` -> 0 and ``high`` -> 255, rounded, in float32 (all 0 when the image is flat)."""
    if high <= low:
        return np.zeros(array.shape, np.uint8)
    scaled = array.astype(np.float32)
    scaled -= low
    scaled *= 255.0 / (high - low)
    np.clip(scaled, 0, 255, out=scaled)
    return np.rint(scaled, out=scaled).astype(np.uint8)


def fetch_url(url: str, timeout: float | None = None) -> bytes:
    """The body of an http(s) URL, bounded in waiting time and in size.

    Parameters
    ----------
    url : str
        An http(s) URL of an image.
    timeout : float, optional
        Seconds to wait for the connection and for each read; default
        ``PYBRIDGE_CONNECT_TIMEOUT`` (see :mod:`pybridge.limits`). The whole body must
        arrive within ``PYBRIDGE_REQUEST_DEADLINE`` and be at most
        ``PYBRIDGE_MAX_URL_BYTES``.

    Returns
    -------
    bytes

    Raises
    ------
    DownloadError
        Not HTTP 200, too large, too slow, or no connection (then the cause is the
        ``requests`` exception).

    Examples
    --------
    >>> fetch_url("https://example.org/face.jpg")[:2]  # doctest: +SKIP
    b'\\xff\\xd8'
    """
    import requests

    wait = limit("PYBRIDGE_CONNECT_TIMEOUT") if timeout is None else float(timeout)
    deadline_s, cap = limit("PYBRIDGE_REQUEST_DEADLINE"), int(limit("PYBRIDGE_MAX_URL_BYTES"))
    started = time.monotonic()
    try:
        with requests.get(url, timeout=(wait, wait), stream=True, headers={"User-Agent": "pybridge"}) as response:
            if response.status_code != 200:
                raise DownloadError(
                    f"fetching {url!r} failed with HTTP status {response.status_code} {response.reason}"
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                raise DownloadError(_too_large(url, cap, f"it announces {int(declared):,} bytes"))
            body = bytearray()
            while True:
                # read1 returns what has arrived, so a server sending a byte at a time
                # meets the deadline check instead of blocking a fixed-size read
                chunk = response.raw.read1(2**16)
                if not chunk:
                    break
                body += chunk
                if len(body) > cap:
                    raise DownloadError(_too_large(url, cap, "its body is larger"))
                if time.monotonic() - started > deadline_s:
                    raise DownloadError(
                        f"{url!r} sent {len(body):,} bytes but not the whole image within {deadline_s:g} s; "
                        "check the server or raise PYBRIDGE_REQUEST_DEADLINE"
                    )
            return bytes(body)
    except DownloadError:
        raise
    except requests.Timeout:
        raise DownloadError(
            f"no answer from {url!r} within {wait:g} s (timed out); check the URL or raise `timeout` "
            "(PYBRIDGE_CONNECT_TIMEOUT)"
        ) from None
    except requests.TooManyRedirects:
        raise DownloadError(f"{url!r} redirects in a loop (too many redirects); check the URL") from None
    except (requests.RequestException, OSError, ValueError) as err:
        raise DownloadError(f"could not fetch {url!r}: {err}; check the URL and the network connection") from err


def _too_large(url: str, cap: int, how: str) -> str:
    return (
        f"{url!r} is larger than the {cap:,}-byte limit for image URLs ({how}); download it yourself or raise "
        "PYBRIDGE_MAX_URL_BYTES"
    )
