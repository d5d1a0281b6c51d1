"""transforemotion_shape: the label columns only, as transforEmotion returned scores."""

from __future__ import annotations

import numpy as np
import pytest

from pybridge import image_scores, transforemotion_shape
from pybridge.errors import InvalidInputError


def test_only_label_columns_rows_kept(face_folder, tiny_clip_dir):
    labels = ["happy", "sad face", "angry"]
    files = [face_folder / "a_astronaut.jpg", face_folder / "c_grey.png"]
    tidy = image_scores(files, labels, local_model_path=tiny_clip_dir)
    shaped = transforemotion_shape(tidy)
    assert list(shaped.columns) == labels
    np.testing.assert_array_equal(shaped.to_numpy(), tidy[labels].to_numpy())
    assert shaped.iloc[1].isna().all()  # no face: a row of NaN, as transforEmotion
    assert shaped.attrs["pybridge"]["labels"] == labels
    kept = transforemotion_shape(tidy, keep=["image"])
    assert list(kept.columns) == ["image", *labels]
    with pytest.raises(InvalidInputError, match=r"columns \['image_id'\] are not in the table"):
        transforemotion_shape(tidy, keep=["image_id"])
