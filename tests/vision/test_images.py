"""Reading images: formats, EXIF orientation, arrays, URLs and every kind of bad file."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pybridge.errors import DownloadError, ImageReadError, InvalidInputError
from pybridge.vision.images import describe_source, is_url, list_image_files, load_image, to_rgb_array


def _write(path, array, **kwargs):
    Image.fromarray(array).save(path, **kwargs)
    return path


def test_png_round_trip_is_exact(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    image = load_image(_write(tmp_path / "a.png", pixels))
    assert image.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(image), pixels)


def test_exif_orientation_is_applied(tmp_path):
    # orientation 6 = "rotate 90 degrees clockwise to display": a 40 x 20 (w x h) file shows as 20 x 40
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:10, :10] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif.tobytes(), quality=100)
    shown = np.asarray(load_image(path))
    assert shown.shape == (40, 20, 3)
    # the red top-left block ends up top-right after a clockwise turn
    assert shown[4, 15, 0] > 200 and shown[4, 4, 0] < 50


def test_grey_and_rgba_become_rgb(tmp_path):
    grey = load_image(_write(tmp_path / "g.png", np.full((3, 3), 9, np.uint8)))
    assert grey.mode == "RGB" and np.asarray(grey)[0, 0].tolist() == [9, 9, 9]
    rgba = np.zeros((2, 2, 4), np.uint8)  # fully transparent black shows as white
    assert np.asarray(load_image(_write(tmp_path / "t.png", rgba)))[0, 0].tolist() == [255, 255, 255]


@pytest.mark.parametrize(
    ("array", "expected_shape"),
    [
        (np.zeros((4, 5), np.uint8), (4, 5, 3)),
        (np.zeros((4, 5, 1), np.uint8), (4, 5, 3)),
        (np.zeros((4, 5, 4), np.uint8), (4, 5, 3)),
        (np.ones((4, 5, 3), np.float32), (4, 5, 3)),
    ],
)
def test_arrays_are_converted(array, expected_shape):
    out = to_rgb_array(array)
    assert out.shape == expected_shape and out.dtype == np.uint8
    assert load_image(array).size == (5, 4)


def test_float_array_scaled_to_255():
    assert to_rgb_array(np.full((1, 1, 3), 0.5))[0, 0, 0] == 128


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((2, 2, 2), np.uint8), "shape"),
        (np.zeros((0, 3, 3), np.uint8), "shape"),
        (np.full((2, 2, 3), 2.0), r"\[0, 1\]"),
        (np.full((2, 2, 3), 300, np.int32), "0-255"),
        (np.zeros((2, 2, 3), complex), "dtype"),
    ],
)
def test_bad_arrays(array, message):
    with pytest.raises(ImageReadError, match=message):
        to_rgb_array(array)


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="does not exist"):
        load_image(tmp_path / "nope.jpg")


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty"):
        load_image(tmp_path / "empty.png")


def test_non_image_file(tmp_path):
    (tmp_path / "text.jpg").write_text("not pixels")
    with pytest.raises(ImageReadError, match="not an image"):
        load_image(tmp_path / "text.jpg")


def test_corrupt_image(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 3])
    with pytest.raises(ImageReadError, match="corrupt or truncated"):
        load_image(tmp_path / "cut.jpg")


def test_folder_given_as_image(tmp_path):
    with pytest.raises(ImageReadError, match="is a folder"):
        load_image(tmp_path)


def test_wrong_type():
    with pytest.raises(InvalidInputError, match="cannot read an image from a int"):
        load_image(3)


def test_url_detection_and_names():
    assert is_url("HTTPS://x.org/a.png") and not is_url("x.org/a.png") and not is_url(3)
    assert describe_source("a/b.png") == "a/b.png"
    assert describe_source(np.zeros(1), 2) == "<array 2>"


class _Response:
    def __init__(self, status, content=b"", reason="Not Found"):
        self.status_code, self.reason = status, reason
        self.headers = {"Content-Length": str(len(content))}
        self.raw = io.BytesIO(content)  # read1, as urllib3's streamed body

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None


def test_url_success_status_and_timeout(monkeypatch):
    import requests

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((3, 4, 3), np.uint8)).save(buffer, "PNG")
    calls = {}

    def fake_get(url, timeout, headers, stream):
        calls["timeout"] = timeout
        if url.endswith("ok.png"):
            return _Response(200, buffer.getvalue())
        if url.endswith("missing.png"):
            return _Response(404)
        if url.endswith("slow.png"):
            raise requests.Timeout("slow")
        raise requests.ConnectionError("refused")

    monkeypatch.setattr(requests, "get", fake_get)
    assert load_image("https://example.org/ok.png", timeout=3).size == (4, 3)
    assert calls["timeout"] == (3, 3)  # connect, and each wait for more data
    with pytest.raises(DownloadError, match="HTTP status 404"):
        load_image("https://example.org/missing.png")
    with pytest.raises(DownloadError, match="no answer .* within"):
        load_image("https://example.org/slow.png")
    with pytest.raises(DownloadError, match="could not fetch"):
        load_image("http://example.org/down.png")


def test_list_image_files(tmp_path):
    for name in ("b.JPG", "a.png", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.jpeg").write_bytes(b"x")
    assert [p.name for p in list_image_files(tmp_path)] == ["a.png", "b.JPG"]
    assert [p.name for p in list_image_files(tmp_path, recursive=True)] == ["a.png", "b.JPG", "c.jpeg"]
    assert [p.name for p in list_image_files(tmp_path, pattern="*.txt")] == ["notes.txt"]


def test_list_image_files_errors(tmp_path):
    with pytest.raises(ImageReadError, match="does not exist"):
        list_image_files(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ImageReadError, match="holds no image files"):
        list_image_files(tmp_path)
    with pytest.raises(ImageReadError, match=r"holds no files matching '\*\.gif'"):
        list_image_files(tmp_path, pattern="*.gif")
