"""Loading models: offline rules, the fake hub cache, caching, devices, custom code, quantisation, bad weights."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from pybridge.errors import (
    InvalidInputError,
    ModelLoadError,
    ModelNotAvailableError,
    QuantizationNotSupportedError,
)
from pybridge.models import device as device_module
from pybridge.models import download_model, get_model, list_models, model_info, remove_model, unload_model
from pybridge.models.device import resolve_device, resolve_dtype
from pybridge.models.manager import loaded_models
from pybridge.vision.scoring import ZeroShotScorer
from tests.helpers.tiny_models import FAKE_COMMIT, install_in_hf_cache

FACES = [np.random.default_rng(i).integers(0, 256, (48, 40, 3), dtype=np.uint8) for i in range(3)]


def test_offline_without_cache_fails_at_once():
    with pytest.raises(ModelNotAvailableError, match="not in the Hugging Face cache .*HF_HUB_OFFLINE=1"):
        get_model("oai-base")
    with pytest.raises(ModelNotAvailableError, match="openai/clip-vit-large-patch14"):
        download_model("oai-large")
    with pytest.raises(ModelNotAvailableError, match="apple/DFN2B-CLIP-ViT-L-14"):
        get_model("dfn-l14")


def test_missing_local_model_path():
    with pytest.raises(ModelNotAvailableError, match="local_model_path '/nowhere/model' does not exist"):
        get_model("oai-base", local_model_path="/nowhere/model")


@pytest.fixture()
def cached_oai_base(tiny_clip_dir):
    """The tiny CLIP installed in the (isolated) HF cache as openai/clip-vit-base-patch32."""
    snapshot = install_in_hf_cache(tiny_clip_dir, "openai/clip-vit-base-patch32")
    yield snapshot
    unload_model("oai-base")
    remove_model("oai-base")


def test_hub_alias_loads_from_cache_offline(cached_oai_base):
    model = get_model("oai-base")
    assert model.provenance()["revision"] == FAKE_COMMIT
    assert model.provenance()["model_id"] == "openai/clip-vit-base-patch32"
    assert model.encode_images([__import__("PIL.Image").Image.fromarray(FACES[0])]).shape == (1, 16)
    info = model_info("oai-base")
    assert info["cached"] and info["loaded"] and info["weights_path"] == str(cached_oai_base)
    assert list_models().set_index("alias").loc["oai-base", "cached"]
    assert download_model("oai-base") == cached_oai_base


def test_remove_model_deletes_cached_weights(cached_oai_base):
    get_model("oai-base")
    outcome = remove_model("oai-base")
    assert outcome["bytes_freed"] > 0 and not outcome["unregistered"]
    assert not model_info("oai-base")["cached"] and not model_info("oai-base")["loaded"]
    with pytest.raises(ModelNotAvailableError):
        get_model("oai-base")


def test_models_are_cached_and_unloaded(tiny_clip_dir, monkeypatch):
    # the cache key holds the precision; pretend bf16 is native so this runs on any CPU
    monkeypatch.setattr(device_module, "cpu_half_precision_support", lambda: {"bf16": "AMX", "fp16": None})
    first = get_model("cache-test", local_model_path=tiny_clip_dir)
    assert get_model("cache-test", local_model_path=tiny_clip_dir, device="cpu", dtype="float32") is first
    assert get_model("cache-test", local_model_path=tiny_clip_dir, precision="fp32") is first
    half = get_model("cache-test", local_model_path=tiny_clip_dir, dtype="bfloat16")
    assert half is not first and half.dtype == torch.bfloat16
    assert get_model("cache-test", local_model_path=tiny_clip_dir, precision="bf16") is half
    assert sum(entry["alias"] == "cache-test" for entry in loaded_models()) == 2
    assert unload_model("cache-test") == 2
    assert get_model("cache-test", local_model_path=tiny_clip_dir) is not first
    unload_model("cache-test")


def test_device_and_dtype_choice():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type in ("cpu", "cuda", "mps")
    assert resolve_dtype(None, torch.device("cpu")) == torch.float32
    assert resolve_dtype(None, torch.device("cuda"), default="float16") == torch.float16
    assert resolve_dtype(None, torch.device("cuda")) == torch.float16  # the GPU default
    with pytest.raises(InvalidInputError, match="unknown precision 'float64'"):
        resolve_dtype("float64", torch.device("cpu"))
    with pytest.raises(InvalidInputError, match="not a torch device name"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_custom_code_needs_permission(tiny_custom_code_dir):
    with pytest.raises(ModelLoadError, match="ships its own Python code .* trust_remote_code=True"):
        get_model("remote", local_model_path=tiny_custom_code_dir)
    model = get_model("remote", local_model_path=tiny_custom_code_dir, trust_remote_code=True)
    scores = ZeroShotScorer(model, ["happy", "sad"]).score(FACES)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    assert model.logit_scale == pytest.approx(10.0)
    # the scores equal the checkpoint's own forward pass
    inputs = model.processor(text=["happy", "sad"], images=[__import__("PIL.Image").Image.fromarray(f) for f in FACES],
                             return_tensors="pt", padding=True)  # fmt: skip
    with torch.no_grad():
        expected = model.module(**inputs).softmax(-1).double().numpy()
    assert np.abs(scores - expected).max() <= 1e-5
    unload_model("remote")


def test_custom_code_from_fake_hub_alias(tiny_custom_code_dir):
    from pybridge.models import register_model

    install_in_hf_cache(tiny_custom_code_dir, "someorg/tiny-remote")
    try:
        register_model("tiny-remote-hub", "someorg/tiny-remote", trust_remote_code=True)
        model = get_model("tiny-remote-hub")
        assert model.provenance()["revision"] == FAKE_COMMIT
    finally:
        remove_model("tiny-remote-hub")


def test_nf4_quantisation_on_cpu(tiny_quantisable_clip_dir):
    pytest.importorskip("bitsandbytes", reason="4-bit test needs bitsandbytes (pybridge-emotion[quant])")
    full = get_model("quant", local_model_path=tiny_quantisable_clip_dir)
    quantised = get_model("quant", local_model_path=tiny_quantisable_clip_dir, quantization="nf4")
    assert quantised.quantization == "nf4" and quantised.provenance()["quantization"] == "nf4"
    assert any(type(m).__name__ == "Linear4bit" for m in quantised.module.modules())
    labels = ["happy", "sad", "angry"]
    exact, approx = ZeroShotScorer(full, labels).score(FACES), ZeroShotScorer(quantised, labels).score(FACES)
    # 4-bit weights shift probabilities by a few hundredths on this tiny model
    assert np.abs(exact - approx).max() < 0.1
    unload_model("quant")


def test_quantisation_refusals(tiny_open_clip_dir, tiny_clip_dir, monkeypatch):
    with pytest.raises(QuantizationNotSupportedError, match="transformers models only.*open_clip"):
        get_model("oc", local_model_path=tiny_open_clip_dir, quantization="nf4")
    with pytest.raises(InvalidInputError, match="quantization must be"):
        get_model("q", local_model_path=tiny_clip_dir, quantization="int8")
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "bitsandbytes" else real_find_spec(name, *a)
    )
    with pytest.raises(
        QuantizationNotSupportedError, match=r"needs bitsandbytes.*pybridge-emotion\[quant\].*quantization='none'"
    ):
        get_model("q", local_model_path=tiny_clip_dir, quantization="nf4")


def test_eva_default_nf4_is_gpu_only():
    from pybridge.models.manager import _resolve_quantization
    from pybridge.models.registry import get_model_spec

    spec = get_model_spec("eva-8B")
    assert _resolve_quantization(spec, None, torch.device("cpu")) is None
    assert _resolve_quantization(spec, "none", torch.device("cuda")) is None
    with pytest.raises(QuantizationNotSupportedError, match="MPS"):
        _resolve_quantization(spec, "nf4", torch.device("mps"))


def test_missing_weights_are_refused(tiny_clip_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken"
    shutil.copytree(tiny_clip_dir, broken)
    weights = load_file(broken / "model.safetensors")
    del weights["visual_projection.weight"]
    save_file(weights, broken / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match=r"do not fit its architecture: 1 tensor\(s\) missing.*visual_projection"):
        get_model("broken", local_model_path=broken)


def test_mismatched_config_is_refused(tiny_clip_dir, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(tiny_clip_dir, changed)
    config = json.loads((changed / "config.json").read_text())
    config["projection_dim"] = 24
    config["text_config"]["projection_dim"] = 24
    config["vision_config"]["projection_dim"] = 24
    (changed / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="changed"):
        get_model("changed", local_model_path=changed)


def test_folder_without_weights(tiny_clip_dir, tiny_open_clip_dir, tmp_path):
    no_weights = tmp_path / "no-weights"
    shutil.copytree(tiny_clip_dir, no_weights)
    (no_weights / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="could not load"):
        get_model("nw", local_model_path=no_weights)
    oc = tmp_path / "oc-no-weights"
    shutil.copytree(tiny_open_clip_dir, oc)
    (oc / "open_clip_model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="no weights"):
        get_model("ocnw", local_model_path=oc)


def test_long_text_warns_for_open_clip(tiny_open_clip_dir):
    model = get_model("oc-long", local_model_path=tiny_open_clip_dir)
    with pytest.warns(UserWarning, match="77 tokens"):
        model.encode_texts([" ".join(["happy"] * 100)])


def test_download_fetches_only_needed_weights(monkeypatch, tmp_path):
    import huggingface_hub

    from pybridge.models import cache

    calls = []

    def fake_snapshot_download(repo_id, revision=None, allow_patterns=None, local_files_only=False, etag_timeout=None):
        assert local_files_only or revision == "c0ffee"  # the commit model_info named pins every file
        if local_files_only:
            raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")
        calls.append(allow_patterns[-1])
        folder = tmp_path / repo_id.replace("/", "--")
        folder.mkdir(exist_ok=True)
        if allow_patterns[-1].endswith(".bin"):  # this repository only has .bin weights
            (folder / allow_patterns[-1].replace("*", "pytorch_model")).write_bytes(b"w")
        return str(folder)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    monkeypatch.setattr(
        huggingface_hub.HfApi,
        "model_info",
        lambda self, repo_id, revision=None, timeout=None: type("Info", (), {"sha": "c0ffee"})(),
    )
    monkeypatch.setattr(cache, "hub_offline", lambda: False)
    assert cache.download_snapshot("org/oc", weights_prefix="open_clip_").name == "org--oc"
    assert calls == ["open_clip_*.safetensors", "open_clip_*.bin"]
    calls.clear()
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda *a, **k: (_ for _ in ()).throw(OSError("boom")))
    from pybridge.errors import DownloadError

    with pytest.raises(DownloadError, match="could not download 'org/x' .*boom"):
        cache.download_snapshot("org/x")
