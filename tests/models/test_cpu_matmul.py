"""Float32 CPU matrix products through oneDNN: same numbers as BLAS, every layer kind reached.

Why it exists and what it buys: :mod:`pybridge.models.cpu_matmul` (1.7x on a ViT-B/32
encoder where MKL runs its AVX2 code, e.g. AMD EPYC). The speed is measured by
``tests/benchmarks/bench_video_scores.py`` and ``bench_image_scores.py``, never here.
"""

from __future__ import annotations

import pytest
import torch
from torch.profiler import profile

from pybridge.errors import InvalidInputError
from pybridge.models import cpu_matmul as cpu_matmul_module
from pybridge.models import get_model, unload_model
from pybridge.models.cpu_matmul import CPU_MATMUL_VARIABLE, cpu_matmul_library, onednn_matmul

pytestmark = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")

ONEDNN_LINEAR = "mkldnn::_linear_pointwise"


def _ops_run(function) -> tuple[set[str], object]:
    with profile() as recorded:
        result = function()
    return {event.name for event in recorded.events()}, result


@pytest.fixture()
def default_matmul(monkeypatch):
    monkeypatch.delenv(CPU_MATMUL_VARIABLE, raising=False)
    assert cpu_matmul_library() == "onednn"


def test_linear_addmm_mm_and_attention_projections_use_onednn_and_stay_float32(default_matmul):
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(4, 9, 48, generator=generator)
    layer = torch.nn.Linear(48, 40).eval()
    attention = torch.nn.MultiheadAttention(48, 4, batch_first=True).eval()
    flat = inputs.reshape(-1, 48)
    weight = layer.weight.detach()

    def products():
        return (
            layer(inputs),
            torch.addmm(layer.bias, flat, weight.t()),
            torch.mm(flat, weight.t()),
            attention(inputs, inputs, inputs, need_weights=False)[0],
        )

    with torch.inference_mode():
        expected = products()
        with onednn_matmul():
            names, got = _ops_run(products)
    assert ONEDNN_LINEAR in names
    # four products of the attention block (in-projection, out-projection) and the three above
    for a, b in zip(got, expected):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    # the fused attention fast path is back on after the block
    assert torch.backends.mha.get_fastpath_enabled()


@pytest.mark.parametrize(
    ("input_shape", "weight_shape"),
    [((8,), (4, 8)), ((2, 3, 5, 8), (4, 8)), ((0, 8), (4, 8)), ((2, 0, 8), (4, 8)), ((3, 0), (4, 0)), ((3, 8), (0, 8))],
    ids=["vector", "4-d", "no-rows", "no-rows-3d", "no-features", "no-outputs"],
)
def test_any_shape_linear_accepts_gives_torchs_result(input_shape, weight_shape, default_matmul):
    generator = torch.Generator().manual_seed(4)
    inputs, weight = torch.randn(input_shape, generator=generator), torch.randn(weight_shape, generator=generator)
    bias = torch.randn(weight_shape[0], generator=generator)
    with torch.inference_mode(), onednn_matmul():
        got = torch.nn.functional.linear(inputs, weight, bias)
    torch.testing.assert_close(got, torch.nn.functional.linear(inputs, weight, bias), rtol=1e-5, atol=1e-5)


def test_other_dtypes_and_general_products_keep_torchs_path(default_matmul):
    generator = torch.Generator().manual_seed(2)
    a = torch.randn(8, 16, generator=generator)
    b = torch.randn(16, 12, generator=generator)  # a plain matrix, not a transposed weight
    weight = torch.randn(12, 16, generator=generator)
    with torch.inference_mode(), onednn_matmul():
        names, (plain, half) = _ops_run(
            lambda: (torch.mm(a, b), torch.nn.functional.linear(a.bfloat16(), weight.bfloat16()))
        )
    assert ONEDNN_LINEAR not in names
    torch.testing.assert_close(plain, a @ b)
    assert half.dtype == torch.bfloat16


def test_blas_setting_and_a_failed_check_keep_torchs_blas(monkeypatch):
    layer = torch.nn.Linear(8, 4)
    monkeypatch.setenv(CPU_MATMUL_VARIABLE, "BLAS")
    assert cpu_matmul_library() == "blas"
    with torch.inference_mode(), onednn_matmul():
        names, _ = _ops_run(lambda: layer(torch.ones(2, 8)))
    assert ONEDNN_LINEAR not in names

    monkeypatch.delenv(CPU_MATMUL_VARIABLE)
    monkeypatch.setattr(cpu_matmul_module, "_onednn_checked", lambda: False)
    assert cpu_matmul_library() == "blas"


def test_unknown_setting_is_a_typed_error(monkeypatch):
    monkeypatch.setenv(CPU_MATMUL_VARIABLE, "mkl-please")
    with pytest.raises(InvalidInputError, match="PYBRIDGE_CPU_MATMUL='mkl-please' must be 'onednn' or 'blas'"):
        cpu_matmul_library()


def test_fast_path_flag_is_restored_when_the_block_raises(default_matmul):
    with pytest.raises(RuntimeError, match="inside"), onednn_matmul():
        assert not torch.backends.mha.get_fastpath_enabled()
        raise RuntimeError("inside")
    assert torch.backends.mha.get_fastpath_enabled()


def test_overlapping_blocks_in_threads_restore_the_users_fast_path_setting(default_matmul):
    import threading

    entered, release = threading.Barrier(2), threading.Event()

    def worker() -> None:
        with onednn_matmul():
            entered.wait()
            release.wait(timeout=10)

    for users_setting in (True, False):
        torch.backends.mha.set_fastpath_enabled(users_setting)
        thread = threading.Thread(target=worker)
        thread.start()
        with onednn_matmul():
            entered.wait()  # both blocks open at once
            assert not torch.backends.mha.get_fastpath_enabled()
        assert not torch.backends.mha.get_fastpath_enabled()  # the other thread's block is still open
        release.set()
        thread.join()
        release.clear()
        entered.reset()
        assert torch.backends.mha.get_fastpath_enabled() is users_setting
    torch.backends.mha.set_fastpath_enabled(True)


def test_the_mode_is_per_thread(default_matmul):
    import threading

    layer = torch.nn.Linear(8, 4)
    seen: dict[str, set[str]] = {}

    def other_thread() -> None:
        with torch.inference_mode():
            seen["other"], _ = _ops_run(lambda: layer(torch.ones(2, 8)))

    with torch.inference_mode(), onednn_matmul():
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert "aten::addmm" in seen["other"] and ONEDNN_LINEAR not in seen["other"]


@pytest.mark.parametrize("fixture_name", ["tiny_clip_dir", "tiny_open_clip_dir"])
def test_fp32_encoders_give_blas_numbers_and_record_the_library(fixture_name, request, monkeypatch, default_matmul):
    folder = request.getfixturevalue(fixture_name)
    pixels = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    model = get_model(f"matmul-{fixture_name}", local_model_path=folder)
    try:
        assert model.provenance()["cpu_matmul"] == "onednn"
        names, fast = _ops_run(lambda: (model.encode_pixels(pixels), model.encode_texts(["happy", "sad"])))
        assert ONEDNN_LINEAR in names
        monkeypatch.setenv(CPU_MATMUL_VARIABLE, "blas")
        assert model.provenance()["cpu_matmul"] == "blas"
        reference = (model.encode_pixels(pixels), model.encode_texts(["happy", "sad"]))
    finally:
        unload_model()
    for a, b in zip(fast, reference):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
