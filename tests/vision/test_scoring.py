"""Zero-shot and classifier scoring: parity with the models' own forward passes, labels, templates."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from pybridge.errors import InvalidInputError, InvalidLabelsError
from pybridge.models import get_model
from pybridge.models.registry import ModelSpec
from pybridge.scores_table import face_columns
from pybridge.vision.faces import FaceBox
from pybridge.vision.scoring import (
    ClassifierScorer,
    FunctionScorer,
    Scorer,
    ZeroShotScorer,
    build_scorer,
    label_embeddings,
    score_frames,
    validate_labels,
)

LABELS = ["happy", "sad", "angry", "a photo of a surprised person"]
PARITY_TOL = 1e-5


def _random_images(n: int, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    sizes = [(48, 40), (32, 32), (64, 50), (37, 45), (80, 60)]
    return [Image.fromarray(rng.integers(0, 256, (*sizes[i % 5], 3), dtype=np.uint8)) for i in range(n)]


@pytest.fixture(scope="module")
def clip_model(tiny_clip_dir):
    return get_model("tiny-clip", local_model_path=tiny_clip_dir)


def test_clip_parity_with_clipmodel_forward(tiny_clip_dir, clip_model):
    from transformers import CLIPModel, CLIPProcessor

    reference = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    processor = CLIPProcessor.from_pretrained(tiny_clip_dir)
    images = _random_images(5)
    inputs = processor(text=LABELS, images=images, return_tensors="pt", padding=True)
    with torch.no_grad():
        expected = reference(**inputs).logits_per_image.softmax(-1).double().numpy()
    scorer = ZeroShotScorer(clip_model, LABELS)

    batched = scorer.score_prepared(inputs["pixel_values"])
    singles = np.vstack([scorer.score_prepared(inputs["pixel_values"][i : i + 1]) for i in range(5)])
    from_arrays = scorer.score([np.asarray(image) for image in images])

    assert np.abs(batched - expected).max() <= PARITY_TOL
    assert np.abs(singles - expected).max() <= PARITY_TOL
    assert np.abs(batched - singles).max() <= PARITY_TOL
    assert np.abs(from_arrays - expected).max() <= PARITY_TOL
    np.testing.assert_allclose(batched.sum(axis=1), 1.0, atol=1e-9)
    # the scores are not trivially uniform, so the comparison means something
    assert batched.std() > 1e-3


def test_batch_size_does_not_change_numbers(clip_model):
    faces = [np.asarray(image) for image in _random_images(7, seed=3)]
    scores = {size: ZeroShotScorer(clip_model, LABELS, batch_size=size).score(faces) for size in (1, 3, 16)}
    assert np.abs(scores[1] - scores[16]).max() <= PARITY_TOL
    assert np.abs(scores[3] - scores[16]).max() <= PARITY_TOL


def test_siglip_parity_uses_sigmoid_and_max_length_padding(tiny_siglip_dir):
    from transformers import SiglipModel, SiglipProcessor

    model = get_model("tiny-siglip", local_model_path=tiny_siglip_dir)
    assert model.probability == "sigmoid" and model.logit_bias == pytest.approx(-1.0)
    reference = SiglipModel.from_pretrained(tiny_siglip_dir).eval()
    processor = SiglipProcessor.from_pretrained(tiny_siglip_dir)
    labels = ["happy", "sad face", "a photo of a fearful person"]
    images = _random_images(4, seed=5)
    inputs = processor(text=labels, images=images, return_tensors="pt", padding="max_length", max_length=64)
    with torch.no_grad():
        expected = torch.sigmoid(reference(**inputs).logits_per_image).double().numpy()
    scorer = ZeroShotScorer(model, labels)
    ours = scorer.score_prepared(inputs["pixel_values"])
    assert np.abs(ours - expected).max() <= PARITY_TOL
    # sigmoid scores are per label: rows need not sum to one
    assert not np.allclose(ours.sum(axis=1), 1.0)
    # shortest padding would give different (wrong) SigLIP text embeddings
    short = processor(text=labels, return_tensors="pt", padding=True)
    with torch.no_grad():
        short_text = reference.get_text_features(**short).pooler_output
    short_text = torch.nn.functional.normalize(short_text, dim=-1)
    assert (short_text - scorer.text_embeddings).abs().max() > 1e-3


def test_siglip_single_label_allowed(tiny_siglip_dir):
    scorer = ZeroShotScorer(get_model("tiny-siglip", local_model_path=tiny_siglip_dir), ["happy"])
    assert scorer.score([np.zeros((40, 40, 3), np.uint8)]).shape == (1, 1)


def test_open_clip_parity(tiny_open_clip_dir):
    import open_clip

    model = get_model("tiny-oc", local_model_path=tiny_open_clip_dir)
    reference, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{tiny_open_clip_dir}")
    reference.eval()
    tokenizer = open_clip.get_tokenizer(f"local-dir:{tiny_open_clip_dir}")
    images = _random_images(3, seed=7)
    pixels = torch.stack([preprocess(image) for image in images])
    with torch.no_grad():
        image_features, text_features, scale = reference(pixels, tokenizer(LABELS))
        expected = (scale * image_features @ text_features.T).softmax(-1).double().numpy()
    scorer = ZeroShotScorer(model, LABELS)
    assert np.abs(scorer.score([np.asarray(image) for image in images]) - expected).max() <= PARITY_TOL


def test_label_embeddings_are_cached(clip_model, monkeypatch):
    calls = []
    original = type(clip_model).encode_texts

    def counting(self, texts):
        calls.append(list(texts))
        return original(self, texts)

    monkeypatch.setattr(type(clip_model), "encode_texts", counting)
    labels = ["cache test one", "cache test two"]
    first = ZeroShotScorer(clip_model, labels)
    second = ZeroShotScorer(clip_model, labels)
    ZeroShotScorer(clip_model, labels, templates="a photo of a {} face")
    assert first.text_embeddings is second.text_embeddings
    assert calls == [labels, ["a photo of a cache test one face", "a photo of a cache test two face"]]


def test_template_ensemble_is_mean_of_normalised_embeddings(clip_model):
    templates = ["a photo of a {} face", "a {label} person"]
    embeddings = label_embeddings(clip_model, ["happy", "sad"], templates)
    texts = clip_model.encode_texts(
        ["a photo of a happy face", "a happy person", "a photo of a sad face", "a sad person"]
    )
    expected = torch.nn.functional.normalize(texts.reshape(2, 2, -1).mean(1), dim=-1)
    assert torch.allclose(embeddings, expected, atol=1e-6)
    named = ZeroShotScorer(clip_model, ["happy", "sad"], templates="face")
    assert len(named.templates) == 4


def test_bad_templates(clip_model):
    with pytest.raises(InvalidInputError, match="has no"):
        ZeroShotScorer(clip_model, ["happy", "sad"], templates="a photo")
    with pytest.raises(InvalidInputError, match="must not be empty"):
        ZeroShotScorer(clip_model, ["happy", "sad"], templates=[])


def test_long_label_is_truncated_with_warning(clip_model):
    long_label = " ".join(["happy"] * 120)
    with pytest.warns(UserWarning, match="context of 77 tokens"):
        scorer = ZeroShotScorer(clip_model, [long_label, "sad"])
    assert np.isfinite(scorer.score([np.zeros((40, 40, 3), np.uint8)])).all()


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([], "must not be empty"),
        (None, "labels are required"),
        ("happy", "not the single string"),
        (["happy"], "single label are always 1"),
        (["happy", "sad", "happy"], r"duplicate label\(s\) \['happy'\]"),
        (["happy", ""], "label 2 is an empty or blank string"),
        (["happy", "   "], "label 2 is an empty or blank string"),
        (["happy", 3], "every label must be a string"),
        (5, "must be a list of strings"),
    ],
)
def test_bad_labels(clip_model, labels, message):
    with pytest.raises(InvalidLabelsError, match=message):
        ZeroShotScorer(clip_model, labels)


def test_validate_labels_keeps_text_and_order():
    assert validate_labels([" Happy ", "sad!"]) == [" Happy ", "sad!"]


class _FakeClassifier:
    """Stands in for cnn-fer: fixed classes, predict_proba on face crops."""

    kind = "classifier"
    classes = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    face_crop = "tight"
    spec = ModelSpec("fake-fer", "fer_cnn", "fer", family="cnn", face_crop="tight", classes=tuple(classes))

    def __init__(self):
        self.seen = []

    def predict_proba(self, faces):
        self.seen.extend(face.shape for face in faces)
        rows = np.tile(np.arange(1, 8, dtype=float), (len(faces), 1))
        return rows / rows.sum(axis=1, keepdims=True)

    def provenance(self):
        return {"model": "fake-fer"}


def test_classifier_scorer_subset_order_and_no_renormalisation():
    classifier = _FakeClassifier()
    scorer = ClassifierScorer(classifier, ["Sad", "happy "])
    assert scorer.columns == ["Sad", "happy "] and scorer.face_crop == "tight"
    scores = scorer.score([np.zeros((10, 10, 3), np.uint8)])
    np.testing.assert_allclose(scores, [[5 / 28, 4 / 28]])
    assert ClassifierScorer(classifier).columns == classifier.classes


def test_classifier_scorer_unknown_label_lists_classes():
    with pytest.raises(InvalidLabelsError, match="only the classes angry, disgust.*'joy'"):
        ClassifierScorer(_FakeClassifier(), ["happy", "joy"])


def test_build_scorer_prefers_given_scorer_and_checks_labels(clip_model):
    given = ClassifierScorer(_FakeClassifier(), ["happy", "sad"])
    assert build_scorer(None, scorer=given) is given
    assert build_scorer(["happy", "sad"], scorer=given) is given
    with pytest.raises(InvalidLabelsError, match="differ from the scorer's columns"):
        build_scorer(["sad", "happy"], scorer=given)
    with pytest.raises(InvalidInputError, match="must have .columns"):
        build_scorer(None, scorer=object())


def test_build_scorer_loads_model(tiny_clip_dir):
    scorer = build_scorer(["happy", "sad"], "tiny-clip", tiny_clip_dir, device="cpu")
    assert isinstance(scorer, ZeroShotScorer) and scorer.face_crop == "padded"


def test_score_frames_records(clip_model, astronaut):
    scorer = ZeroShotScorer(clip_model, ["happy", "sad"])
    blank = np.full((100, 100, 3), 90, np.uint8)
    records = score_frames([astronaut, blank, astronaut], scorer, batch_size=2)
    assert [r["_source"] for r in records] == [0, 1, 2]
    assert list(records[0])[1:] == face_columns(["happy", "sad"], "largest", landmarks=True)
    face, none, again = records
    assert face["face_found"] and FaceBox(face["face_x"], face["face_y"], face["face_w"], face["face_h"]).w > 50
    assert face["reason"] is None and math.isclose(face["happy"] + face["sad"], 1.0)
    assert not none["face_found"] and none["reason"] == "no face detected"
    assert math.isnan(none["happy"]) and math.isnan(none["face_x"])
    assert again["happy"] == pytest.approx(face["happy"], abs=PARITY_TOL)
    # the padded crop is what gets scored
    from pybridge.vision.faces import crop_face

    crop = crop_face(astronaut, FaceBox(face["face_x"], face["face_y"], face["face_w"], face["face_h"]))
    assert scorer.score([crop])[0, 0] == pytest.approx(face["happy"], abs=PARITY_TOL)


def test_score_frames_none_and_all(clip_model, astronaut):
    scorer = ZeroShotScorer(clip_model, ["happy", "sad"])
    (whole,) = score_frames([astronaut], scorer, face_selection="none")
    assert (whole["face_x"], whole["face_y"], whole["face_w"], whole["face_h"]) == (0, 0, 512, 512)
    assert not whole["face_found"] and whole["reason"] is None
    assert whole["happy"] == pytest.approx(scorer.score([astronaut])[0, 0], abs=PARITY_TOL)
    blank = np.full((100, 100, 3), 90, np.uint8)
    records = score_frames([astronaut, blank], scorer, face_selection="all")
    assert [(r["_source"], r["face_id"]) for r in records] == [(0, 0), (1, None)]


def test_score_frames_bad_arguments(clip_model):
    scorer = ZeroShotScorer(clip_model, ["happy", "sad"])
    with pytest.raises(InvalidInputError, match="face_selection"):
        score_frames([], scorer, face_selection="biggest")
    with pytest.raises(InvalidInputError, match="batch_size"):
        score_frames([], scorer, batch_size=0)
    assert score_frames([], scorer) == []


def test_the_scorer_protocol_is_what_score_stream_calls():
    classifier = ClassifierScorer(_FakeClassifier(), ["happy", "sad"])
    wrapped = FunctionScorer(
        lambda faces: np.full((len(faces), 1), 0.25), ["calm"], face_crop="tight", provenance={"model": "constant"}
    )
    for scorer in (classifier, wrapped):
        assert isinstance(scorer, Scorer)
        assert build_scorer(None, scorer=scorer) is scorer
    assert wrapped.provenance() == {"model": "constant", "labels": ["calm"]}
    frames = [np.zeros((60, 60, 3), np.uint8), np.full((60, 60, 3), 200, np.uint8)]
    records = score_frames(frames, wrapped, face_selection="none")
    assert [record["calm"] for record in records] == [0.25, 0.25]

    class ScoreOnly:  # the one-step form is wrapped, not guessed at
        columns, face_crop = ["calm"], "padded"

        def score(self, faces):
            return np.zeros((len(faces), 1))

        def provenance(self):
            return {}

    with pytest.raises(InvalidInputError, match="wrap a score\\(faces\\) function in .*FunctionScorer"):
        build_scorer(None, scorer=ScoreOnly())
