"""image_scores / image_scores_dir end to end: table layout, every input kind, every bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pybridge.errors import ImageReadError, InvalidInputError, InvalidLabelsError, UnknownModelError
from pybridge.scores_table import LANDMARK_COLUMNS
from pybridge.vision.image_scoring import image_scores, image_scores_dir
from pybridge.vision.scoring import ClassifierScorer

LABELS = ["happy", "sad", "a photo of an angry face"]


@pytest.fixture(scope="module")
def folder_scores(face_folder, tiny_clip_dir):
    with pytest.warns(UserWarning, match="3 of 6 image"):
        return image_scores(face_folder, LABELS, local_model_path=tiny_clip_dir, batch_size=2)


def test_table_layout(folder_scores):
    assert folder_scores.columns.tolist() == [
        "image", "face_found", "face_score", "face_x", "face_y", "face_w", "face_h", "reason", *LANDMARK_COLUMNS,
        *LABELS,
    ]  # fmt: skip
    assert folder_scores["face_found"].dtype == bool
    assert all(folder_scores[c].dtype == np.float64 for c in ["face_x", *LABELS])


def test_every_file_keeps_a_row_in_order(folder_scores, face_folder):
    names = [name.rsplit("/", 1)[-1] for name in folder_scores["image"]]
    assert names == ["a_astronaut.jpg", "b_mirrored.png", "c_grey.png", "d_empty.jpg", "e_not_an_image.png",
                     "f_truncated.jpg"]  # fmt: skip
    found = folder_scores.set_index(pd.Index(names))
    assert found.loc[["a_astronaut.jpg", "b_mirrored.png"], "face_found"].all()
    np.testing.assert_allclose(found.loc["a_astronaut.jpg", LABELS].sum(), 1.0)
    assert found.loc["c_grey.png", "reason"] == "no face detected"
    assert "empty" in found.loc["d_empty.jpg", "reason"]
    assert "not an image" in found.loc["e_not_an_image.png", "reason"]
    assert "corrupt or truncated" in found.loc["f_truncated.jpg", "reason"]
    bad = found.loc[["c_grey.png", "d_empty.jpg", "e_not_an_image.png", "f_truncated.jpg"]]
    assert bad[LABELS].isna().all().all() and bad["face_x"].isna().all() and not bad["face_found"].any()


def test_mirrored_face_box(folder_scores):
    astro, mirrored = folder_scores.iloc[0], folder_scores.iloc[1]
    # the mirrored photo's face sits at 512 - x - w
    assert mirrored["face_x"] == pytest.approx(512 - astro["face_x"] - astro["face_w"], abs=6)


def test_provenance(folder_scores, tiny_clip_dir):
    record = folder_scores.attrs["pybridge"]
    assert record["model_id"] == str(tiny_clip_dir)
    assert record["backend"] == "transformers" and record["device"] == "cpu" and record["dtype"] == "float32"
    assert record["face_selection"] == "largest" and record["face_crop"] == "padded"
    assert record["face_detector"]["detector"] == "mtcnn" and record["labels"] == LABELS
    assert record["face_detector"]["threshold"] == 0.9
    assert record["face_detector"]["weights"] == "facenet-pytorch==2.6.0"
    assert {"torch", "transformers"} <= set(record["packages"])


def test_same_scores_for_path_pil_and_array_inputs(tiny_clip_dir, astronaut, tmp_path):
    path = tmp_path / "astro.png"
    Image.fromarray(astronaut).save(path)
    table = image_scores([str(path), Image.fromarray(astronaut), astronaut], LABELS, local_model_path=tiny_clip_dir)
    assert table["image"].tolist() == [str(path), "<PIL image 1>", "<array 2>"]
    values = table[LABELS].to_numpy()
    assert np.abs(values - values[0]).max() <= 1e-5


def test_single_path_and_dir_function(face_folder, tiny_clip_dir):
    one = image_scores(str(face_folder / "a_astronaut.jpg"), LABELS, local_model_path=tiny_clip_dir)
    assert len(one) == 1 and one["face_found"].item()
    matched = image_scores_dir(face_folder, LABELS, pattern="a_*.jpg", local_model_path=tiny_clip_dir)
    assert matched["image"].str.endswith("a_astronaut.jpg").tolist() == [True]
    assert matched.loc[0, "happy"] == pytest.approx(one.loc[0, "happy"], abs=1e-9)


def test_recursive_folders(tmp_path, astronaut, tiny_clip_dir):
    (tmp_path / "sub").mkdir()
    Image.fromarray(astronaut).save(tmp_path / "top.png")
    Image.fromarray(astronaut).save(tmp_path / "sub" / "deep.png")
    assert len(image_scores(tmp_path, LABELS, local_model_path=tiny_clip_dir)) == 1
    assert len(image_scores(tmp_path, LABELS, local_model_path=tiny_clip_dir, recursive=True)) == 2


def test_face_selection_all_and_none(tiny_clip_dir, astronaut):
    blank = np.full((90, 90, 3), 60, np.uint8)
    every = image_scores([astronaut, blank], LABELS, face_selection="all", local_model_path=tiny_clip_dir)
    assert every.columns[:3].tolist() == ["image", "face_id", "face_found"]
    assert every["face_id"].iloc[0] == 0 and math.isnan(every["face_id"].iloc[1])
    whole = image_scores([astronaut], LABELS, face_selection="none", local_model_path=tiny_clip_dir)
    assert whole[["face_x", "face_y", "face_w", "face_h"]].iloc[0].tolist() == [0, 0, 512, 512]
    assert not whole["face_found"].item() and whole[LABELS].notna().all().all()


def test_templates_change_scores(tiny_clip_dir, astronaut):
    plain = image_scores([astronaut], ["happy", "sad"], local_model_path=tiny_clip_dir)
    templated = image_scores([astronaut], ["happy", "sad"], local_model_path=tiny_clip_dir, templates="face")
    assert templated.columns[-2:].tolist() == ["happy", "sad"]
    assert abs(plain["happy"].item() - templated["happy"].item()) > 1e-6
    assert templated.attrs["pybridge"]["templates"][0] == "a photo of a {} face."


def test_fixed_class_scorer(astronaut):
    class Classifier:
        kind, classes, face_crop = "classifier", ["happy", "sad"], "tight"
        spec = None

        def predict_proba(self, faces):
            assert all(face.shape == (95, 95, 3) for face in faces)  # tight Haar box
            return np.tile([0.9, 0.1], (len(faces), 1))

        def provenance(self):
            return {"model": "toy"}

    table = image_scores([astronaut], scorer=ClassifierScorer(Classifier()), detector="haar")
    assert table[["happy", "sad"]].iloc[0].tolist() == [0.9, 0.1]


def test_missing_file_is_a_row_with_reason(tiny_clip_dir, tmp_path):
    with pytest.warns(UserWarning, match="1 of 1 image"):
        table = image_scores(str(tmp_path / "missing.jpg"), LABELS, local_model_path=tiny_clip_dir)
    assert "does not exist" in table["reason"].item() and table[LABELS].isna().all(axis=None)


def test_progress_bar(tiny_clip_dir, astronaut, capsys):
    image_scores([astronaut], LABELS, local_model_path=tiny_clip_dir, progress=True)
    assert "scoring images" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"labels": []}, InvalidLabelsError, "must not be empty"),
        ({"labels": ["happy"]}, InvalidLabelsError, "at least 2"),
        ({"labels": ["happy", "happy"]}, InvalidLabelsError, "duplicate"),
        ({"labels": ["happy", ""]}, InvalidLabelsError, "empty or blank"),
        ({"face_selection": "biggest"}, InvalidInputError, "face_selection must be one of"),
        ({"batch_size": 0}, InvalidInputError, "batch_size"),
    ],
)
def test_bad_arguments(tiny_clip_dir, astronaut, kwargs, error, message):
    arguments = {"labels": LABELS, **kwargs}
    with pytest.raises(error, match=message):
        image_scores([astronaut], local_model_path=tiny_clip_dir, **arguments)


def test_bad_inputs(tmp_path, tiny_clip_dir):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ImageReadError, match="holds no image files"):
        image_scores(tmp_path, LABELS, local_model_path=tiny_clip_dir)
    with pytest.raises(ImageReadError, match="does not exist"):
        image_scores_dir(tmp_path / "missing", LABELS, local_model_path=tiny_clip_dir)
    with pytest.raises(InvalidInputError, match="no images given"):
        image_scores([], LABELS, local_model_path=tiny_clip_dir)
    with pytest.raises(InvalidInputError, match="cannot read an image from a int"):
        image_scores([3], LABELS, local_model_path=tiny_clip_dir)
    with pytest.raises(InvalidInputError, match="is not a folder"):
        image_scores_dir(tmp_path / "notes.txt", LABELS, local_model_path=tiny_clip_dir)


def test_unknown_alias(astronaut):
    with pytest.raises(UnknownModelError, match="unknown model alias 'no-such-model'.*oai-base"):
        image_scores([astronaut], LABELS, model="no-such-model")
