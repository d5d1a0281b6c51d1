"""Backends are rows of a table that each backend module fills: a new backend is one module."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from pybridge.errors import InvalidInputError, QuantizationNotSupportedError
from pybridge.models import backend_table, get_model, unload_model
from pybridge.models.registry import ModelSpec, detect_backend, spec_for_local_path


def test_builtin_backends_register_themselves_without_loading_torch():
    import subprocess
    import sys

    code = (
        "import sys; from pybridge.models.backend_table import backend_names; "
        "print(backend_names(), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "('open_clip', 'transformers', 'fer_cnn') False"
    assert backend_table.get_backend("open_clip").weights_prefix == "open_clip_"
    assert backend_table.get_backend("fer_cnn").hub_weights is False
    with pytest.raises(InvalidInputError, match="backend must be one of open_clip, transformers, fer_cnn"):
        backend_table.get_backend("onnx")


def load_toy(spec, folder, device, dtype, quantization, trust_remote_code):
    config = json.loads((folder / "toy_config.json").read_text())
    return SimpleNamespace(spec=spec, folder=folder, config=config, quantization=quantization)


@pytest.fixture()
def toy_backend():
    row = backend_table.register_backend(
        backend_table.Backend(
            name="toy",
            loader=f"{__name__}:load_toy",
            config_file="toy_config.json",
            family=lambda config: config.get("family"),
        )
    )
    yield row
    del backend_table._TABLE["toy"]
    unload_model()


def test_a_new_backend_is_one_table_row(toy_backend, tmp_path):
    folder = tmp_path / "toy-model"
    folder.mkdir()
    (folder / "toy_config.json").write_text(json.dumps({"family": "siglip"}))
    assert detect_backend(folder) == "toy"
    spec = spec_for_local_path(folder)
    assert (spec.backend, spec.family) == ("toy", "siglip")
    loaded = get_model(spec, device="cpu")
    assert loaded.folder == folder.resolve() and loaded.config == {"family": "siglip"}
    # the row says the backend has no 4-bit loading; the manager reads the row
    with pytest.raises(
        QuantizationNotSupportedError, match="works for transformers models only; 'toy-model' uses the toy"
    ):
        get_model(ModelSpec(alias="toy-model", backend="toy", source=str(folder)), device="cpu", quantization="nf4")
