"""The alias registry: built-in specs, user registrations, backend detection, listing."""

from __future__ import annotations

import json

import pytest

from pybridge.errors import InvalidInputError, UnknownModelError
from pybridge.models import get_model_spec, list_models, model_info, register_model, remove_model
from pybridge.models.cache import pybridge_cache_dir
from pybridge.models.registry import FER_CLASSES, ModelSpec, detect_backend, spec_for_local_path


def test_builtin_aliases_required_by_the_issue():
    expected = {
        "oai-base": ("transformers", "openai/clip-vit-base-patch32", False),
        "oai-large": ("transformers", "openai/clip-vit-large-patch14", False),
        "eva-8B": ("transformers", "BAAI/EVA-CLIP-8B-448", True),
        "jina-v2": ("transformers", "jinaai/jina-clip-v2", True),
    }
    for alias, (backend, source, remote) in expected.items():
        spec = get_model_spec(alias)
        assert (spec.backend, spec.source, spec.trust_remote_code) == (backend, source, remote)
    assert get_model_spec("eva-8B").quantization == "nf4"
    families = {get_model_spec(a).family for a in list_models()["alias"]}
    assert {"clip", "siglip", "eva", "jina", "cnn"} <= families
    open_clip_sources = list_models().query("backend == 'open_clip'")["source"].tolist()
    assert any("metaclip" in s for s in open_clip_sources) and any("apple/DFN" in s for s in open_clip_sources)


def test_cnn_fer_spec():
    spec = get_model_spec("cnn-fer")
    assert (spec.backend, spec.family, spec.face_crop, spec.classes) == ("fer_cnn", "cnn", "tight", FER_CLASSES)
    assert FER_CLASSES == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_unknown_alias_lists_known_ones_and_suggests_case():
    with pytest.raises(UnknownModelError, match="unknown model alias 'OAI-base'. Did you mean 'oai-base'"):
        get_model_spec("OAI-base")
    with pytest.raises(UnknownModelError, match="Known aliases: oai-base, oai-large"):
        get_model_spec("nope")


def test_list_models_table():
    table = list_models()
    assert table.columns.tolist() == [
        "alias", "backend", "family", "source", "trust_remote_code", "quantization", "approx_memory_gb", "cached",
        "user", "description",
    ]  # fmt: skip
    # the test cache is empty: nothing is available offline
    assert not table.loc[table["backend"] != "fer_cnn", "cached"].any()


def test_spec_validation():
    with pytest.raises(InvalidInputError, match="backend must be one of"):
        ModelSpec("x", "onnx", "org/x")
    with pytest.raises(InvalidInputError, match="quantization must be None or 'nf4'"):
        ModelSpec("x", "transformers", "org/x", quantization="int8")
    with pytest.raises(InvalidInputError, match="face_crop"):
        ModelSpec("x", "transformers", "org/x", face_crop="wide")


def test_detect_backend(tiny_clip_dir, tiny_open_clip_dir, tmp_path):
    assert detect_backend(tiny_clip_dir) == "transformers"
    assert detect_backend(tiny_open_clip_dir) == "open_clip"
    (tmp_path / "w.hdf5").write_bytes(b"")
    assert detect_backend(tmp_path / "w.hdf5") == "fer_cnn"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="neither a transformers config.json nor an open_clip_config.json"):
        detect_backend(tmp_path / "empty")


def test_local_path_never_enables_custom_code(tiny_custom_code_dir):
    spec = spec_for_local_path(tiny_custom_code_dir)
    assert spec.family == "custom" and spec.trust_remote_code is False
    # standing in for an alias keeps that alias's permission
    assert spec_for_local_path(tiny_custom_code_dir, get_model_spec("jina-v2")).trust_remote_code is True


def test_register_list_info_remove_round_trip(tiny_clip_dir, tiny_open_clip_dir):
    spec = register_model("my-clip", tiny_clip_dir)
    try:
        assert (spec.backend, spec.family, spec.user) == ("transformers", "clip", True)
        stored = json.loads((pybridge_cache_dir() / "models.json").read_text())
        assert stored["my-clip"]["source"] == str(tiny_clip_dir)
        row = list_models().set_index("alias").loc["my-clip"]
        assert row["user"] and row["cached"]
        assert model_info("my-clip")["weights_path"] == str(tiny_clip_dir)
        with pytest.raises(InvalidInputError, match="already registered"):
            register_model("my-clip", tiny_open_clip_dir)
        replaced = register_model("my-clip", tiny_open_clip_dir, overwrite=True)
        assert replaced.backend == "open_clip"
    finally:
        outcome = remove_model("my-clip")
    assert outcome == {"alias": "my-clip", "unregistered": True, "bytes_freed": 0}
    assert tiny_open_clip_dir.is_dir()  # a user's folder is never deleted
    with pytest.raises(UnknownModelError):
        get_model_spec("my-clip")


def test_register_hub_ids():
    try:
        assert register_model("hub-oc", "hf-hub:org/some-model").backend == "open_clip"
        sig = register_model("hub-sig", "google/siglip-large-patch16-256", revision="abc")
        assert (sig.backend, sig.family, sig.revision) == ("transformers", "siglip", "abc")
        remote = register_model("hub-remote", "org/remote", trust_remote_code=True)
        assert remote.family == "custom" and remote.trust_remote_code
    finally:
        for alias in ("hub-oc", "hub-sig", "hub-remote"):
            remove_model(alias, cached_weights=False)


@pytest.mark.parametrize(
    ("alias", "source", "message"),
    [
        ("oai-base", "org/x", "built-in alias"),
        ("bad alias!", "org/x", "must start with a letter or digit"),
        ("x", "/does/not/exist", "does not exist"),
        ("x", "not-a-hub-id", "neither an existing folder nor a hub id"),
        ("x", "a/b/c", "neither an existing folder nor a hub id"),
    ],
)
def test_register_rejects(alias, source, message):
    with pytest.raises(InvalidInputError, match=message):
        register_model(alias, source)


def test_builtin_alias_cannot_be_unregistered():
    assert remove_model("oai-base", cached_weights=False)["unregistered"] is False
    assert get_model_spec("oai-base")
