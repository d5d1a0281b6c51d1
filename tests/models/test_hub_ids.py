"""A Hugging Face id works as model=: backend and family from the cached configuration,
ModelNotAvailableError offline without the weights; model_info's transforEmotion fields."""

from __future__ import annotations

import numpy as np
import pytest

import pybridge
from pybridge.errors import ModelNotAvailableError, UnknownModelError
from pybridge.models.registry import get_model_spec, is_hub_id, spec_for_hub_id
from tests.helpers.tiny_models import install_in_hf_cache


def test_offline_without_weights_is_not_available_not_unknown(face_folder):
    with pytest.raises(ModelNotAvailableError, match="openai/clip-vit-base-patch16"):
        pybridge.image_scores(face_folder / "a_astronaut.jpg", ["happy", "sad"], model="openai/clip-vit-base-patch16")
    info = pybridge.model_info("openai/clip-vit-base-patch16")
    assert (info["backend"], info["family"], info["cached"], info["user"]) == ("transformers", "clip", False, False)
    with pytest.raises(UnknownModelError, match="unknown model alias 'oai-bse'"):
        get_model_spec("oai-bse")


def test_cached_hub_id_scores_like_the_local_folder(face_folder, tiny_clip_dir):
    install_in_hf_cache(tiny_clip_dir, "someorg/tiny-clip-hub")
    image = face_folder / "a_astronaut.jpg"
    by_id = pybridge.image_scores(image, ["happy", "sad"], model="someorg/tiny-clip-hub")
    by_path = pybridge.image_scores(image, ["happy", "sad"], local_model_path=tiny_clip_dir)
    np.testing.assert_array_equal(by_id[["happy", "sad"]].to_numpy(), by_path[["happy", "sad"]].to_numpy())
    assert "someorg/tiny-clip-hub" in str(by_id.attrs["pybridge"])
    info = pybridge.model_info("someorg/tiny-clip-hub")
    assert info["cached"] is True and info["requires_special_handling"] is False
    assert info["preprocessing_config"]["processor"]["image_mean"] == pytest.approx([0.48145466, 0.4578275, 0.40821073])


def test_backend_and_family_come_from_the_cached_config(tiny_open_clip_dir, tiny_siglip_dir):
    install_in_hf_cache(tiny_open_clip_dir, "someorg/tiny-open-clip")
    spec = spec_for_hub_id("someorg/tiny-open-clip")  # no hf-hub: prefix, detected from the files
    assert (spec.backend, spec.source) == ("open_clip", "hf-hub:someorg/tiny-open-clip")
    install_in_hf_cache(tiny_siglip_dir, "someorg/tiny-model")  # 'siglip' not in the name
    assert spec_for_hub_id("someorg/tiny-model").family == "siglip"
    assert spec_for_hub_id("hf-hub:laion/not-cached").backend == "open_clip"
    assert [is_hub_id(x) for x in ("a/b", "hf-hub:a/b", "a/b/c", "oai-base", None)] == [True, True, False, False, False]


def test_model_info_gives_special_handling_preprocessing_and_registration_time(tiny_clip_dir):
    eva = pybridge.model_info("eva-8B")
    assert eva["requires_special_handling"] is True and eva["registered_at"] is None
    assert eva["preprocessing_config"] == {
        "face_crop": "padded",
        "processor_source": "openai/clip-vit-large-patch14",
        "image_size": 448,
        "processor": None,
    }
    pybridge.register_model("my-tiny", tiny_clip_dir, overwrite=True)
    try:
        info = pybridge.model_info("my-tiny")
        assert info["registered_at"].endswith("+00:00") and info["user"] is True
        assert info["preprocessing_config"]["processor"]["crop_size"] is not None
    finally:
        pybridge.remove_model("my-tiny", cached_weights=False)
