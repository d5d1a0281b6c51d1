"""Embeddings and emotion probes on a tiny random-weight CLIP (no network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn.exceptions
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from pybridge import EmotionProbe, image_embeddings, image_scores, text_embeddings
from pybridge.errors import InvalidInputError, InvalidLabelsError, ModelMismatchError, NotFittedError
from pybridge.vision.embeddings import embedding_map, embeddings_matrix

CLASSES = ("red-disc", "green-square", "blue-bar")


def synthetic_image(kind: int, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """Three visibly different classes: colour and shape differ, position and size vary."""
    image = np.full((size, size, 3), 235, dtype=np.uint8)
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[:size, :size]
    cx, cy = rng.integers(20, 44, size=2)
    radius = rng.integers(10, 16)
    if kind == 0:
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
        colour = (210, 30, 30)
    elif kind == 1:
        mask = (abs(xx - cx) <= radius) & (abs(yy - cy) <= radius)
        colour = (30, 180, 40)
    else:
        mask = (abs(xx - cx) <= radius + 8) & (abs(yy - cy) <= 4)
        colour = (30, 40, 200)
    image[mask] = colour
    return image


def make_set(n_per_class: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n_per_class):
        for kind, name in enumerate(CLASSES):
            images.append(synthetic_image(kind, rng))
            labels.append(name)
    return images, labels


@pytest.fixture(scope="module")
def data():
    train = make_set(20, seed=1)  # 60 images
    test = make_set(10, seed=2)  # 30 images
    return train, test


@pytest.fixture(scope="module")
def fitted(tiny_clip_dir, data):
    (train_x, train_y), _ = data
    return EmotionProbe(local_model_path=str(tiny_clip_dir), face_selection="none", C=100.0).fit(train_x, train_y)


def test_image_and_text_embeddings_are_normalised_rows(tiny_clip_dir, data):
    (train_x, _), _ = data
    table = image_embeddings(train_x[:5], local_model_path=str(tiny_clip_dir), face_selection="none")
    matrix = embeddings_matrix(table)
    assert len(table) == 5 and table["face_found"].tolist() == [False] * 5
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-6)
    assert table.attrs["pybridge"]["model_id"] == str(tiny_clip_dir)

    texts = text_embeddings(list(CLASSES), local_model_path=str(tiny_clip_dir))
    assert texts.index.tolist() == list(CLASSES) and texts.shape[1] == matrix.shape[1]
    np.testing.assert_allclose(np.linalg.norm(texts.to_numpy(), axis=1), 1.0, atol=1e-6)


def test_embeddings_keep_rows_without_faces(tiny_clip_dir, tmp_path, data):
    (train_x, _), _ = data
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="could not be read"):
        table = image_embeddings([train_x[0], str(bad)], local_model_path=str(tiny_clip_dir), face_selection="largest")
    assert len(table) == 2
    assert np.isnan(embeddings_matrix(table)).all()  # no face in a synthetic image, unreadable file
    assert table["reason"].notna().all()


def test_probe_learns_three_visible_classes(fitted, data):
    _, (test_x, test_y) = data
    accuracy = fitted.score(test_x, test_y)
    assert accuracy >= 0.9, f"held-out accuracy {accuracy:.2f} (chance 0.33)"
    proba = fitted.predict_proba(test_x)
    assert proba.columns.tolist() == sorted(CLASSES)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_mlp_probe_and_cross_validation(tiny_clip_dir, data):
    (train_x, train_y), (test_x, test_y) = data
    probe = EmotionProbe(local_model_path=str(tiny_clip_dir), face_selection="none", classifier="mlp",
                         hidden_layer_sizes=(32,), C=10.0, random_state=0)  # fmt: skip
    assert probe.fit(train_x, train_y).score(test_x, test_y) >= 0.9
    report = EmotionProbe(local_model_path=str(tiny_clip_dir), face_selection="none", C=100.0).cross_validate(
        train_x, train_y, cv=3
    )
    assert report["n"] == 60 and len(report["accuracy"]) == 3 and report["accuracy_mean"] >= 0.8


def test_zero_shot_initialisation_stays_near_zero_shot_with_strong_prior(tiny_clip_dir, data):
    (train_x, train_y), (test_x, _) = data
    anchored = EmotionProbe(local_model_path=str(tiny_clip_dir), face_selection="none", zero_shot_init=True, C=1e-6)
    anchored.fit(train_x[:6], train_y[:6])
    zero_shot = image_scores(test_x, sorted(CLASSES), local_model_path=str(tiny_clip_dir), face_selection="none")
    # With a very strong pull towards the prior the probe's weights are the zero-shot
    # classifier, so its class ranking follows zero-shot scoring (up to the free bias).
    weights = anchored.coef_
    texts = text_embeddings(sorted(CLASSES), local_model_path=str(tiny_clip_dir), as_array=True)
    from pybridge.models import get_model

    scale = get_model("oai-base", str(tiny_clip_dir)).logit_scale
    np.testing.assert_allclose(weights, texts * scale, atol=1e-3)
    assert zero_shot.shape[0] == anchored.predict_proba(test_x).shape[0]


def test_sklearn_conventions(tiny_clip_dir, data, fitted):
    (train_x, train_y), (test_x, test_y) = data
    probe = EmotionProbe(local_model_path=str(tiny_clip_dir), face_selection="none", C=5.0)
    assert probe.get_params()["C"] == 5.0
    assert clone(probe).set_params(C=2.0).C == 2.0
    with pytest.raises(NotFittedError, match="not fitted"):
        probe.predict(test_x)
    # scikit-learn's own check_is_fitted users catch pybridge's error too
    with pytest.raises(sklearn.exceptions.NotFittedError, match="not fitted") as caught:
        probe.predict(test_x)
    assert caught.value.kind == "not_fitted"
    embeddings = image_embeddings(train_x, local_model_path=str(tiny_clip_dir), face_selection="none", as_array=True)
    pipeline = make_pipeline(FunctionTransformer(), EmotionProbe(local_model_path=str(tiny_clip_dir), C=100.0))
    pipeline.fit(embeddings, train_y)
    assert pipeline.score(embeddings, train_y) >= 0.9


def test_save_load_round_trip_is_exact_and_never_pickles(fitted, data, tmp_path):
    _, (test_x, _) = data
    path = fitted.save(tmp_path / "probe")
    assert path.suffix == ".npz"
    with np.load(path, allow_pickle=False) as stored:  # loads without pickle
        assert "metadata" in stored
    loaded = EmotionProbe.load(path)
    pd.testing.assert_frame_equal(loaded.predict_proba(test_x), fitted.predict_proba(test_x))
    assert loaded.model_identity_ == fitted.model_identity_
    with pytest.raises(InvalidInputError, match="not found"):
        EmotionProbe.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(InvalidInputError, match="not a pybridge probe"):
        EmotionProbe.load(tmp_path / "junk.npz")


def test_probe_rejects_other_models_embeddings(fitted, tiny_siglip_dir, tiny_open_clip_dir, data):
    _, (test_x, _) = data
    other = image_embeddings(test_x[:3], local_model_path=str(tiny_open_clip_dir), face_selection="none")
    with pytest.raises(ModelMismatchError, match="different spaces|width"):
        fitted.predict_proba(other)
    foreign_width = np.zeros((2, fitted.n_features_in_ + 3))
    with pytest.raises(ModelMismatchError, match="width"):
        fitted.predict(foreign_width)


def test_bad_training_input(tiny_clip_dir, data):
    (train_x, train_y), _ = data
    probe = EmotionProbe(local_model_path=str(tiny_clip_dir), face_selection="none")
    with pytest.raises(InvalidLabelsError, match="at least two classes"):
        probe.fit_embeddings(np.eye(4), ["a"] * 4)
    with pytest.raises(InvalidInputError, match="one label per input"):
        probe.fit_embeddings(np.eye(4), ["a", "b"])
    with pytest.raises(InvalidInputError, match="no training data"):
        probe.fit_embeddings(np.empty((0, 4)), [])
    with pytest.raises(InvalidInputError, match="missing labels"):
        probe.fit_embeddings(np.eye(4), ["a", None, "b", "a"])
    embeddings = np.vstack([np.eye(4), np.full((1, 4), np.nan)])
    with pytest.warns(UserWarning, match="1 of 5 training inputs have no embedding"):
        fitted = probe.fit_embeddings(embeddings, ["a", "b", "a", "b", "a"])
    assert fitted.n_dropped_ == 1
    proba = fitted.predict_proba(embeddings)
    assert proba.iloc[:4].notna().all().all() and proba.iloc[4].isna().all()  # NaN row kept in place
    assert fitted.predict(embeddings)[4] is None
    with pytest.raises(InvalidInputError, match="y has 2 labels for 5 inputs"):
        fitted.score(embeddings, ["a", "b"])
    with pytest.raises(InvalidInputError, match="expected an embeddings table"):
        embeddings_matrix(np.eye(2))


def test_probe_as_scorer_matches_probe_on_embeddings(fitted, tiny_clip_dir, data):
    _, (test_x, _) = data
    via_scoring = image_scores(test_x, scorer=fitted, face_selection="none")
    assert via_scoring.columns[-3:].tolist() == sorted(CLASSES)
    embeddings = image_embeddings(test_x, local_model_path=str(tiny_clip_dir), face_selection="none")
    direct = fitted.predict_proba(embeddings)
    np.testing.assert_allclose(via_scoring[sorted(CLASSES)].to_numpy(), direct.to_numpy(), atol=1e-6)


def test_video_scores_with_probe_equals_probe_on_frame_embeddings(fitted, tiny_clip_dir, tmp_path):
    from pybridge import video_scores
    from pybridge.vision.video import iter_video_frames, sample_plan
    from tests.helpers.media import make_face_video

    video = make_face_video(tmp_path / "face.mp4", n_frames=6, fps=5, blank=(2,))
    series = video_scores(str(video), scorer=fitted, nframes=6, ffreq=1, face_selection="largest")
    assert series.columns[-3:].tolist() == sorted(CLASSES)
    frames = [frame.rgb for frame in iter_video_frames(str(video), sample_plan(nframes=6, ffreq=1))]
    probe_largest = clone(fitted)
    probe_largest.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    probe_largest.set_params(face_selection="largest")
    embeddings = image_embeddings(frames, local_model_path=str(tiny_clip_dir), face_selection="largest")
    direct = probe_largest.predict_proba(embeddings)
    assert series["face_found"].tolist() == embeddings["face_found"].tolist()
    np.testing.assert_allclose(
        series[sorted(CLASSES)].to_numpy(float), direct.to_numpy(float), atol=1e-6, equal_nan=True
    )


def test_embedding_map(tiny_clip_dir, data, tmp_path):
    (train_x, train_y), _ = data
    table = image_embeddings(train_x[:15], local_model_path=str(tiny_clip_dir), face_selection="none")
    for method in ("pca", "tsne"):
        result = embedding_map(table, train_y[:15], local_model_path=str(tiny_clip_dir), method=method,
                               path=tmp_path / f"map-{method}.png")  # fmt: skip
        assert (tmp_path / f"map-{method}.png").stat().st_size > 5000
        coords = result.coordinates
        assert (coords["kind"] == "image").sum() == 15 and (coords["kind"] == "text").sum() == 3
        assert np.isfinite(coords[["x", "y"]].to_numpy()).all()
    with pytest.raises(InvalidInputError, match="one per image"):
        embedding_map(table, train_y[:3], local_model_path=str(tiny_clip_dir), method="pca")


def test_embedding_map_embeds_images_with_the_face_stage_settings_it_is_given(tiny_clip_dir, data):
    (train_x, train_y), _ = data
    table = image_embeddings(train_x[:15], local_model_path=str(tiny_clip_dir), face_selection="none")
    from_table = embedding_map(table, train_y[:15], local_model_path=str(tiny_clip_dir), method="pca")
    from_images = embedding_map(train_x[:15], train_y[:15], local_model_path=str(tiny_clip_dir), method="pca",
                                face_selection="none", detector="haar", face_threshold=0.5, precision="fp32")  # fmt: skip
    np.testing.assert_allclose(
        from_images.coordinates[["x", "y"]].to_numpy(), from_table.coordinates[["x", "y"]].to_numpy(), atol=1e-6
    )
    with pytest.raises(InvalidInputError, match="detector"):
        embedding_map(train_x[:15], train_y[:15], local_model_path=str(tiny_clip_dir), detector="no-such-detector")
    with pytest.raises(InvalidInputError, match="face_threshold"):
        embedding_map(train_x[:15], train_y[:15], local_model_path=str(tiny_clip_dir), face_threshold=2.0)
