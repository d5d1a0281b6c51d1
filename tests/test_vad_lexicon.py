"""map_discrete_to_vad: weighted and top-label lookups against hand computations,
on a small lexicon made here (the NRC VAD Lexicon is not redistributable)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pybridge.errors import InvalidInputError, InvalidLabelsError
from pybridge.vad_lexicon import load_vad_lexicon, map_discrete_to_vad

# ratings in the NRC layout (Word, Valence, Arousal, Dominance), made up for the tests
LEXICON = pd.DataFrame(
    {
        "Word": ["happy", "sad", "angry", "neutral", "danger", "Happy"],
        "Valence": [0.95, 0.10, 0.15, 0.50, 0.08, 0.0],
        "Arousal": [0.70, 0.30, 0.85, 0.20, 0.90, 0.0],
        "Dominance": [0.65, 0.25, 0.70, 0.45, 0.40, 0.0],
    }
)


def scores_table() -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "image": ["a.jpg", "b.jpg", "c.jpg"],
            "face_found": [True, True, False],
            "face_x": [1.0, 2.0, np.nan],
            "reason": [None, None, "no face detected"],
            "happy": [0.6, 0.1, np.nan],
            "sad": [0.3, 0.2, np.nan],
            "angry": [0.1, 0.7, np.nan],
        }
    )
    table.attrs["pybridge"] = {"labels": ["happy", "sad", "angry"]}
    return table


def test_weighted_mapping_equals_hand_computation():
    mapped = map_discrete_to_vad(scores_table(), LEXICON)
    assert list(mapped.columns) == ["image", "valence", "arousal", "dominance"]
    # row a: 0.6 happy + 0.3 sad + 0.1 angry (weights already sum to one)
    assert mapped.loc[0, "valence"] == pytest.approx(0.6 * 0.95 + 0.3 * 0.10 + 0.1 * 0.15, abs=1e-15)
    assert mapped.loc[1, "arousal"] == pytest.approx(0.1 * 0.70 + 0.2 * 0.30 + 0.7 * 0.85, abs=1e-15)
    assert mapped.loc[2, ["valence", "arousal", "dominance"]].isna().all()  # no face, no scores


def test_top_label_mapping_and_first_of_repeated_words():
    mapped = map_discrete_to_vad(scores_table(), LEXICON, weighted=False)
    assert mapped.loc[0, ["valence", "arousal", "dominance"]].tolist() == [0.95, 0.70, 0.65]  # not "Happy" row
    assert mapped.loc[1, ["valence", "arousal", "dominance"]].tolist() == [0.15, 0.85, 0.70]
    assert mapped.loc[2, ["valence", "arousal", "dominance"]].isna().all()


def test_labels_not_in_the_lexicon_are_left_out_with_a_warning():
    table = pd.DataFrame({"Happy ": [0.5, 0.2], "sad face": [0.5, 0.8]})  # transforEmotion's shape
    with pytest.warns(UserWarning, match=r"labels \['sad face'\] are not in the VAD lexicon"):
        mapped = map_discrete_to_vad(table, LEXICON)
    assert list(mapped.columns) == ["valence", "arousal", "dominance"]
    assert mapped["valence"].tolist() == [0.95, 0.95]  # renormalised over the matched label
    with pytest.warns(UserWarning):
        top = map_discrete_to_vad(table, LEXICON, weighted=False)
    assert np.isnan(top.loc[1, "valence"]) and top.loc[0, "valence"] == 0.95
    # "anger" is not matched to "danger" by substring
    with pytest.raises(InvalidLabelsError, match=r"none of the labels \['anger'"):
        map_discrete_to_vad(pd.DataFrame({"anger": [1.0], "fury": [0.0]}), LEXICON)


def test_lexicon_file_and_columns(tmp_path):
    path = tmp_path / "NRC-VAD-Lexicon.txt"
    LEXICON.rename(columns={"Word": "term"}).to_csv(path, sep="\t", index=False)
    lexicon = load_vad_lexicon(path)
    assert list(lexicon.columns) == ["word", "valence", "arousal", "dominance"]
    assert lexicon["word"].tolist() == ["happy", "sad", "angry", "neutral", "danger"]
    assert map_discrete_to_vad(scores_table(), str(path)).equals(map_discrete_to_vad(scores_table(), LEXICON))


@pytest.mark.parametrize(
    ("lexicon", "message"),
    [
        (LEXICON.drop(columns="Dominance"), r"lacks the column\(s\) \['dominance'\]"),
        (LEXICON.rename(columns={"Word": "emotion"}), r"lacks the column\(s\) \['word'\]"),
        (LEXICON.assign(Valence=["x"] * 6), "valence column holds values that are not numbers"),
        (LEXICON.assign(Valence=np.nan), "no complete row"),
        ("/no/such/lexicon.txt", "not found; download the NRC VAD Lexicon"),
        ([1, 2], "must be a data frame or the path"),
    ],
)
def test_bad_lexicons(lexicon, message):
    with pytest.raises(InvalidInputError, match=message):
        map_discrete_to_vad(scores_table(), lexicon)


def test_bad_scores():
    with pytest.raises(InvalidInputError, match="has no rows"):
        map_discrete_to_vad(scores_table().iloc[:0], LEXICON)
    with pytest.raises(InvalidInputError, match="no numeric emotion columns"):
        map_discrete_to_vad(pd.DataFrame({"image": ["a"]}), LEXICON)
    with pytest.raises(InvalidInputError, match="must be a data frame"):
        map_discrete_to_vad({"happy": 1.0}, LEXICON)
    with pytest.raises(InvalidInputError, match=r"label columns \['joy'\] are not in the table"):
        map_discrete_to_vad(scores_table(), LEXICON, labels=["joy"])
    with pytest.raises(InvalidInputError, match="weighted must be True or False"):
        map_discrete_to_vad(scores_table(), LEXICON, weighted="yes")
    with pytest.raises(InvalidInputError, match="must not be negative"):
        map_discrete_to_vad(pd.DataFrame({"happy": [-0.5], "sad": [1.5]}), LEXICON)
