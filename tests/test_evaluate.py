"""evaluate_emotions: numbers against scikit-learn and hand computations, and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from pybridge.errors import InvalidInputError, InvalidLabelsError
from pybridge.evaluate import (
    evaluate_emotions,
    expected_calibration_error,
    krippendorff_alpha_nominal,
    one_vs_rest_auroc,
)

CLASSES = ["angry", "happy", "neutral", "sad"]


@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    """400 rated faces: reference labels and model probabilities, ties included."""
    rng = np.random.default_rng(7)
    n = 400
    truth = rng.choice(CLASSES, size=n, p=[0.1, 0.4, 0.3, 0.2])
    logits = rng.normal(size=(n, len(CLASSES)))
    logits[np.arange(n), [CLASSES.index(t) for t in truth]] += 1.2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    # two decimals makes many exact ties, which AUROC must count as one half
    probs = np.round(probs, 2)
    frame = pd.DataFrame(probs, columns=CLASSES)
    frame.insert(0, "truth", truth)
    return frame


def _sklearn_reference(frame: pd.DataFrame) -> dict:
    probs = frame[CLASSES].to_numpy()
    y_pred = np.array(CLASSES)[probs.argmax(axis=1)]
    y_true = frame["truth"].to_numpy()
    out = {"y_pred": y_pred, "accuracy": accuracy_score(y_true, y_pred)}
    for average in ("macro", "micro", "weighted", None):
        out[average] = precision_recall_fscore_support(y_true, y_pred, labels=CLASSES, average=average, zero_division=0)
    out["confusion"] = confusion_matrix(y_true, y_pred, labels=CLASSES)
    out["auroc_per_class"] = [roc_auc_score(y_true == c, frame[c]) for c in CLASSES]
    return out


def test_classification_metrics_equal_scikit_learn(scored):
    result = evaluate_emotions(scored, truth="truth", probs=CLASSES)
    ref = _sklearn_reference(scored)
    assert result.classes == CLASSES
    assert result.n == len(scored) and result.n_dropped == 0
    assert result.accuracy == pytest.approx(ref["accuracy"], abs=1e-15)
    for average in ("macro", "micro", "weighted"):
        p, r, f, _ = ref[average]
        assert result.precision[average] == pytest.approx(p, abs=1e-12)
        assert result.recall[average] == pytest.approx(r, abs=1e-12)
        assert result.f1[average] == pytest.approx(f, abs=1e-12)
    p, r, f, support = ref[None]
    np.testing.assert_allclose(result.per_class["precision"], p, atol=1e-12)
    np.testing.assert_allclose(result.per_class["recall"], r, atol=1e-12)
    np.testing.assert_allclose(result.per_class["f1"], f, atol=1e-12)
    np.testing.assert_array_equal(result.per_class["support"], support)
    np.testing.assert_array_equal(result.confusion.to_numpy(), ref["confusion"])
    assert list(result.confusion.index) == CLASSES == list(result.confusion.columns)


def test_auroc_with_ties_equals_scikit_learn(scored):
    result = evaluate_emotions(scored, truth="truth", probs=CLASSES)
    ref = _sklearn_reference(scored)
    assert scored[CLASSES].stack().duplicated().sum() > 300  # the data really has ties
    np.testing.assert_allclose(result.per_class["auroc"], ref["auroc_per_class"], atol=1e-12)
    # scikit-learn's multi-class OvR needs rows summing to one; renormalising keeps its
    # ranking within a class only approximately, so compare with its per-class average
    assert result.auroc["macro"] == pytest.approx(np.mean(ref["auroc_per_class"]), abs=1e-12)
    prevalence = scored["truth"].value_counts().reindex(CLASSES).to_numpy()
    assert result.auroc["weighted"] == pytest.approx(np.average(ref["auroc_per_class"], weights=prevalence), abs=1e-12)
    normalised = scored[CLASSES].to_numpy() / scored[CLASSES].to_numpy().sum(1, keepdims=True)
    frame = pd.DataFrame(normalised, columns=CLASSES).assign(truth=scored["truth"].to_numpy())
    again = evaluate_emotions(frame, truth="truth", probs=CLASSES)
    for average in ("macro", "weighted"):
        expected = roc_auc_score(frame["truth"], normalised, multi_class="ovr", average=average, labels=CLASSES)
        assert again.auroc[average] == pytest.approx(expected, abs=1e-12)


def test_auroc_hand_computed_tie_counts_half():
    # positives score 0.8 and 0.1, negatives 0.8 and 0.5: pairs (0.8, 0.8) tie -> 1/2,
    # (0.8, 0.5) win -> 1, (0.1, 0.8) and (0.1, 0.5) lose -> 0; (0.5 + 1) / 4
    auc = one_vs_rest_auroc(np.array([1, 0, 1, 0], bool), np.array([0.8, 0.8, 0.1, 0.5]))
    assert auc == 0.375
    assert math.isnan(one_vs_rest_auroc(np.ones(3, bool), np.array([0.1, 0.2, 0.3])))


def test_probability_columns_are_matched_by_name_not_position(scored):
    reference = evaluate_emotions(scored, truth="truth", probs=CLASSES).to_dict()
    shuffled_order = ["sad", "angry", "neutral", "happy"]
    shuffled = scored[["truth", *shuffled_order]]
    by_list = evaluate_emotions(shuffled, truth="truth", probs=shuffled_order, classes=CLASSES)
    assert by_list.to_dict() == reference
    renamed = shuffled.rename(columns={c: f"p_{c}" for c in CLASSES})
    by_dict = evaluate_emotions(renamed, truth="truth", probs={c: f"p_{c}" for c in shuffled_order}, classes=CLASSES)
    assert by_dict.to_dict() == reference
    # without classes= the order is that of probs; every number per class is the same
    # (rows whose top probability is tied go to the first class, so leave them out)
    top = scored[CLASSES].to_numpy()
    unique_top = (top == top.max(axis=1, keepdims=True)).sum(axis=1) == 1
    untied = shuffled.loc[unique_top]
    unordered = evaluate_emotions(untied, truth="truth", probs=shuffled_order)
    ordered = evaluate_emotions(untied, truth="truth", probs=shuffled_order, classes=CLASSES)
    assert unordered.classes == shuffled_order
    pd.testing.assert_frame_equal(unordered.per_class.loc[CLASSES], ordered.per_class)


def test_columns_named_after_classes_are_found_without_probs(scored):
    implicit = evaluate_emotions(scored, truth="truth")
    assert implicit.to_dict() == evaluate_emotions(scored, truth="truth", probs=CLASSES).to_dict()


def test_pred_column_overrides_argmax(scored):
    ref = _sklearn_reference(scored)
    flipped = scored.assign(pred=np.where(ref["y_pred"] == "happy", "sad", ref["y_pred"]))
    result = evaluate_emotions(flipped, truth="truth", pred="pred", probs=CLASSES)
    assert result.accuracy == pytest.approx(accuracy_score(flipped["truth"], flipped["pred"]))
    labels_only = evaluate_emotions(flipped, truth="truth", pred="pred")
    assert labels_only.auroc is None and labels_only.ece is None
    assert labels_only.accuracy == result.accuracy


def test_expected_calibration_error_equals_explicit_bins(scored):
    result = evaluate_emotions(scored, truth="truth", probs=CLASSES, ece_bins=10)
    probs = scored[CLASSES].to_numpy()
    probs = probs / probs.sum(axis=1, keepdims=True)
    confidence = probs.max(axis=1)
    correct = np.array(CLASSES)[probs.argmax(axis=1)] == scored["truth"].to_numpy()
    expected = 0.0
    edges = np.linspace(0, 1, 11)
    for lower, upper in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > lower) & (confidence <= upper)
        if in_bin.any():
            expected += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    assert result.ece == pytest.approx(expected, abs=1e-12)
    # a hand example: two bins of two rows, gaps 0.25 and 0
    ece = expected_calibration_error(np.array([0.75, 0.75, 0.5, 0.5]), np.array([True, True, True, False]), n_bins=10)
    assert ece == 0.125


def test_krippendorff_alpha_hand_computed_coincidence_matrix():
    # units (coder 1, coder 2): (a,a) (a,a) (b,b) (a,b) (b,c) (c,c) (c, missing)
    # coincidences: o_aa = 4, o_bb = 2, o_cc = 2, o_ab = o_ba = 1, o_bc = o_cb = 1;
    # marginals n_a = 5, n_b = 4, n_c = 3, n = 12; the last unit is not pairable.
    # alpha = 1 - (n - 1) * sum_{c!=k} o_ck / sum_{c!=k} n_c n_k
    #       = 1 - 11 * 4 / (144 - 25 - 16 - 9) = 1 - 44 / 94
    ratings = pd.DataFrame(
        {"coder1": ["a", "a", "b", "a", "b", "c", "c"], "coder2": ["a", "a", "b", "b", "c", "c", None]}
    )
    assert krippendorff_alpha_nominal(ratings) == pytest.approx(1 - 44 / 94, abs=1e-15)


def test_krippendorff_alpha_published_four_coder_example():
    # Krippendorff's reliability-data example with missing values (4 coders x 12 units);
    # the nominal alpha he reports is 0.743
    nan = np.nan
    ratings = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
        ]
    ).T
    assert krippendorff_alpha_nominal(ratings) == pytest.approx(0.743, abs=5e-4)


def test_alpha_in_evaluation_uses_truth_and_prediction(scored):
    result = evaluate_emotions(scored, truth="truth", probs=CLASSES)
    ref = _sklearn_reference(scored)
    pairs = np.column_stack([scored["truth"].to_numpy(), ref["y_pred"]])
    assert result.krippendorff_alpha == pytest.approx(krippendorff_alpha_nominal(pairs), abs=1e-15)
    perfect = pd.DataFrame({"y": ["a", "b", "a"], "p": ["a", "b", "a"]})
    assert evaluate_emotions(perfect, truth="y", pred="p").krippendorff_alpha == 1.0


def test_missing_rows_are_dropped_and_counted(scored):
    holes = scored.copy()
    holes.loc[[0, 5], "happy"] = np.nan  # no face found
    holes.loc[9, "truth"] = None  # unlabelled frame
    with pytest.warns(UserWarning, match="dropped 3 of 400 rows"):
        result = evaluate_emotions(holes, truth="truth", probs=CLASSES)
    assert (result.n, result.n_dropped) == (len(scored) - 3, 3)
    complete = evaluate_emotions(scored.drop(index=[0, 5, 9]), truth="truth", probs=CLASSES)
    assert result.to_dict() | {"n_dropped": 0} == complete.to_dict()
    assert "n_dropped=3" in repr(result)
    all_missing = scored.assign(happy=np.nan)
    with pytest.raises(InvalidInputError, match=f"all {len(scored)} rows miss"):
        evaluate_emotions(all_missing, truth="truth", probs=CLASSES)


def test_to_dict_is_json_ready(scored):
    as_dict = evaluate_emotions(scored, truth="truth", probs=CLASSES).to_dict()
    decoded = json.loads(json.dumps(as_dict))
    assert decoded["classes"] == CLASSES
    assert decoded["confusion"]["happy"]["happy"] > 0
    assert set(decoded["per_class"]["sad"]) == {"support", "precision", "recall", "f1", "auroc"}


def test_metrics_subset(scored):
    result = evaluate_emotions(scored, truth="truth", probs=CLASSES, metrics=["accuracy", "auroc"])
    assert result.accuracy is not None and result.auroc is not None
    assert result.f1 is None and result.confusion is None and result.ece is None
    assert result.krippendorff_alpha is None
    with pytest.raises(InvalidInputError, match=r"unknown metrics \['kappa'\]"):
        evaluate_emotions(scored, truth="truth", probs=CLASSES, metrics=["kappa"])
    labels = scored.assign(pred="happy")
    with pytest.raises(InvalidInputError, match=r"metrics \['auroc'\] need class probabilities"):
        evaluate_emotions(labels, truth="truth", pred="pred", metrics=["auroc"])


def test_single_class_in_truth_gives_nan_auroc_for_it():
    frame = pd.DataFrame({"y": ["happy"] * 4, "happy": [0.9, 0.8, 0.4, 0.7], "sad": [0.1, 0.2, 0.6, 0.3]})
    result = evaluate_emotions(frame, truth="y", probs=["happy", "sad"])
    assert result.accuracy == 0.75
    assert math.isnan(result.per_class.loc["happy", "auroc"])
    assert math.isnan(result.auroc["macro"])
    assert result.per_class.loc["sad", "support"] == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(probs=["happy", "sad", "fear"]), InvalidInputError, r"probability column\(s\) \['fear'\]"),
        (
            dict(probs={"happy": "happy", "sad": "sad", "joy": "happy"}, classes=["happy", "sad"]),
            InvalidLabelsError,
            r"name classes \['joy'\] that are not in classes",
        ),
        (
            dict(probs=["happy", "sad"], classes=["happy", "sad", "fear"]),
            InvalidLabelsError,
            r"classes \['fear'\] have no probability column",
        ),
        (dict(probs=["happy"]), InvalidLabelsError, "at least two classes"),
        (dict(pred="pred", classes=["happy"]), InvalidLabelsError, "at least two classes"),
        (dict(probs=["happy", "sad"], classes=["happy", "happy"]), InvalidLabelsError, "unique"),
        (dict(truth="label"), InvalidInputError, r"data has no truth/pred column\(s\) \['label'\]; available columns"),
        (dict(probs="happy"), InvalidInputError, "got the string"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    frame = pd.DataFrame({"y": ["happy", "sad"], "pred": ["happy", "happy"], "happy": [0.7, 0.4], "sad": [0.3, 0.6]})
    kwargs = {"truth": "y", **kwargs}
    with pytest.raises(error, match=message):
        evaluate_emotions(frame, **kwargs)


def test_labels_outside_classes_are_rejected():
    frame = pd.DataFrame({"y": ["happy", "angry"], "happy": [0.7, 0.4], "sad": [0.3, 0.6]})
    with pytest.raises(InvalidLabelsError, match=r"reference labels in column 'y' include \['angry'\]"):
        evaluate_emotions(frame, truth="y", probs=["happy", "sad"])


def test_empty_and_non_frame_input():
    with pytest.raises(InvalidInputError, match="has no rows"):
        evaluate_emotions(pd.DataFrame({"y": [], "happy": [], "sad": []}), truth="y")
    with pytest.raises(InvalidInputError, match="must be a pandas DataFrame"):
        evaluate_emotions([["happy", 0.2]], truth="y")
    text_probs = pd.DataFrame({"y": ["happy", "sad"], "happy": ["x", "y"], "sad": [0.1, 0.2]})
    with pytest.raises(InvalidInputError, match=r"\['happy'\] are not numeric"):
        evaluate_emotions(text_probs, truth="y")


def test_alpha_bad_input_and_degenerate_case():
    with pytest.raises(InvalidInputError, match="no unit has two or more ratings"):
        krippendorff_alpha_nominal(np.array([[1.0, np.nan], [np.nan, 2.0]]))
    with pytest.raises(InvalidInputError, match="at least two coders"):
        krippendorff_alpha_nominal(np.array([[1.0], [2.0]]))
    assert math.isnan(krippendorff_alpha_nominal(np.array([["a", "a"], ["a", "a"]], dtype=object)))


def test_to_frame_builds_comparison_tables(scored):
    first = evaluate_emotions(scored, truth="truth", probs=CLASSES)
    labels_only = evaluate_emotions(scored.assign(pred="happy"), truth="truth", pred="pred")
    table = pd.concat([first.to_frame("model-a"), labels_only.to_frame("always-happy")])
    assert list(table.index) == ["model-a", "always-happy"]
    assert table.loc["model-a", "f1_weighted"] == first.f1["weighted"]
    assert table.loc["model-a", "recall_sad"] == first.per_class.loc["sad", "recall"]
    assert table.loc["always-happy", "recall_happy"] == 1.0
    assert np.isnan(table.loc["always-happy", "auroc_macro"])


# ---------------------------------------------------------------- transforEmotion's interface


def _with_predictions(scored: pd.DataFrame) -> pd.DataFrame:
    """transforEmotion's layout: truth, pred (with errors not implied by the
    probabilities) and prob_<class> columns in an order different from CLASSES."""
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"id": np.arange(len(scored)), "truth": scored["truth"]})
    pred = np.array(CLASSES)[scored[CLASSES].to_numpy().argmax(axis=1)]
    flip = rng.random(len(pred)) < 0.2
    pred[flip] = rng.choice(CLASSES, size=int(flip.sum()))
    frame["pred"] = pred
    for name in reversed(CLASSES):
        frame[f"prob_{name}"] = scored[name]
    return frame


def test_transforemotion_metric_names_prefix_and_csv_path(scored, tmp_path):
    frame = _with_predictions(scored)
    probs = [f"prob_{c}" for c in reversed(CLASSES)]
    result = evaluate_emotions(
        frame,
        truth="truth",
        pred="pred",
        probs=probs,
        metrics=["accuracy", "f1_macro", "f1_micro", "auroc", "confusion_matrix", "krippendorff"],
    )
    assert result.classes == list(reversed(CLASSES))  # the order of probs
    y_true, y_pred = frame["truth"], frame["pred"]
    assert result.accuracy == accuracy_score(y_true, y_pred)
    _, _, f_macro, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=result.classes, average="macro", zero_division=0
    )
    assert result.f1["macro"] == pytest.approx(f_macro, abs=1e-12)
    assert result.f1["micro"] == pytest.approx(accuracy_score(y_true, y_pred), abs=1e-15)
    for name in result.classes:  # prob_<class> is matched to <class>, ties count one half
        expected = roc_auc_score(y_true == name, frame[f"prob_{name}"])
        assert result.per_class.loc[name, "auroc"] == pytest.approx(expected, abs=1e-12)
    np.testing.assert_array_equal(result.confusion.to_numpy(), confusion_matrix(y_true, y_pred, labels=result.classes))
    assert result.krippendorff_alpha is not None and result.precision is None and result.ece is None

    path = tmp_path / "evaluation.csv"
    frame.to_csv(path, index=False)
    from_file = evaluate_emotions(str(path), truth="truth", pred="pred", probs=probs)
    assert from_file.to_dict() == evaluate_emotions(frame, truth="truth", pred="pred", probs=probs).to_dict()


def test_probability_columns_pair_with_classes_by_position_when_no_name_matches(scored):
    frame = scored.rename(columns={c: f"score{i}" for i, c in enumerate(CLASSES)})
    by_position = evaluate_emotions(frame, truth="truth", probs=[f"score{i}" for i in range(4)], classes=CLASSES)
    by_name = evaluate_emotions(scored, truth="truth", probs=CLASSES)
    assert by_position.to_dict() == by_name.to_dict()


def test_missing_classes_and_argmax_ties_agree_with_scikit_learn():
    # 'fear' is never the reference nor predicted; rows 1 and 3 tie between happy and sad
    classes = ["happy", "sad", "fear", "angry"]
    frame = pd.DataFrame(
        {
            "truth": ["happy", "sad", "angry", "happy", "sad", "angry"],
            "happy": [0.6, 0.4, 0.1, 0.45, 0.2, 0.3],
            "sad": [0.2, 0.4, 0.2, 0.45, 0.7, 0.3],
            "fear": [0.1, 0.1, 0.3, 0.05, 0.05, 0.1],
            "angry": [0.1, 0.1, 0.4, 0.05, 0.05, 0.3],
        }
    )
    result = evaluate_emotions(frame, truth="truth", probs=classes, classes=classes)
    # ties go to the first class in `classes`, as numpy's argmax (first maximum)
    y_pred = np.array(classes)[frame[classes].to_numpy().argmax(axis=1)]
    assert list(y_pred) == ["happy", "happy", "angry", "happy", "sad", "happy"]
    for average in ("macro", "micro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            frame["truth"], y_pred, labels=classes, average=average, zero_division=0
        )
        assert (result.precision[average], result.recall[average], result.f1[average]) == pytest.approx(
            (p, r, f), abs=1e-12
        )
    assert result.per_class.loc["fear", "support"] == 0
    assert math.isnan(result.per_class.loc["fear", "auroc"])
    defined = [c for c in classes if c != "fear"]
    expected = np.mean([roc_auc_score(frame["truth"] == c, frame[c]) for c in defined])
    assert result.auroc["macro"] == pytest.approx(expected, abs=1e-12)


def test_na_rm_false_and_unknown_metric_names(scored):
    holes = scored.copy()
    holes.loc[3, "truth"] = None
    with pytest.raises(InvalidInputError, match="1 of 400 rows miss .* pass na_rm=True"):
        evaluate_emotions(holes, truth="truth", probs=CLASSES, na_rm=False)
    with pytest.raises(InvalidInputError, match=r"unknown metrics \['f2'\].*'krippendorff'"):
        evaluate_emotions(scored, truth="truth", probs=CLASSES, metrics=["accuracy", "f2"])
    with pytest.raises(InvalidInputError, match="na_rm must be True or False"):
        evaluate_emotions(scored, truth="truth", probs=CLASSES, na_rm="yes")
    with pytest.raises(InvalidInputError, match="not found; pass a data frame"):
        evaluate_emotions("/no/such/file.csv", truth="truth")


def test_missing_probability_columns_name_the_tables_score_columns():
    from pybridge.scores_table import set_provenance

    table = pd.DataFrame(
        {
            "image": ["a.jpg", "b.jpg"],
            "face_found": [True, True],
            "face_id": [0.0, 0.0],
            "joy": [0.8, 0.3],
            "gloom": [0.2, 0.7],
            "human": ["happy", "sad"],
        }
    )
    set_provenance(table, {"labels": ["joy", "gloom"]})
    with pytest.raises(
        InvalidInputError, match=r"columns named \['happy', 'sad'\] \(its score columns are \['joy', 'gloom'\]\)"
    ):
        evaluate_emotions(table, truth="human")
