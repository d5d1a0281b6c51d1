"""Classification metrics for emotion scores against human labels.

:func:`evaluate_emotions` compares what a model said about each face (a predicted label,
per-class probabilities, or both) with a reference label, the way published comparisons
of emotion models report it: accuracy, precision / recall / F1 per class and averaged
(macro, micro, weighted), the confusion matrix, one-vs-rest AUROC, expected calibration
error and Krippendorff's alpha between the reference and the model.

Probability columns are always matched to classes by *name*: a score table whose columns
are in a different order than ``classes`` gives the same numbers.

Examples
--------
>>> import pandas as pd
>>> scores = pd.DataFrame({
...     "truth": ["happy", "sad", "happy", "sad"],
...     "happy": [0.9, 0.2, 0.4, 0.3],
...     "sad": [0.1, 0.8, 0.6, 0.7],
... })
>>> result = evaluate_emotions(scores, truth="truth", probs=["happy", "sad"])
>>> result.accuracy
0.75
>>> result.auroc["macro"]
1.0
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .errors import InvalidInputError, InvalidLabelsError
from .scores_table import score_columns
from .validation import require_columns, require_frame

__all__ = [
    "ALL_METRICS",
    "METRIC_ALIASES",
    "EmotionEvaluation",
    "evaluate_emotions",
    "expected_calibration_error",
    "krippendorff_alpha_nominal",
    "one_vs_rest_auroc",
]

ALL_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "confusion",
    "auroc",
    "ece",
    "alpha",
)
#: transforEmotion's metric names and the metric of ``ALL_METRICS`` each one computes.
METRIC_ALIASES: dict[str, str] = {
    "f1_macro": "f1",
    "f1_micro": "f1",
    "confusion_matrix": "confusion",
    "krippendorff": "alpha",
}
#: Prefix of transforEmotion's probability columns (``prob_<class>``), removed when
#: matching columns to classes by name.
PROBABILITY_PREFIX = "prob_"
_PROBABILITY_METRICS = frozenset({"auroc", "ece"})
_AVERAGES = ("macro", "micro", "weighted")


@dataclass
class EmotionEvaluation:
    """Metrics of one comparison of model output with reference labels.

    Metrics that were not requested, or need probabilities that were not given, are
    ``None``.

    Attributes
    ----------
    classes : list of str
        Classes in the order used by every per-class result.
    n : int
        Rows evaluated.
    n_dropped : int
        Rows dropped because the reference, the prediction or a probability was missing
        (e.g. frames where no face was found).
    accuracy : float or None
        Share of rows whose predicted class equals the reference.
    precision, recall, f1 : dict of str to float, or None
        ``"macro"``, ``"micro"`` and ``"weighted"`` (by support) averages. A class that is
        never predicted has precision 0 (scikit-learn's ``zero_division=0``).
    per_class : pandas.DataFrame
        One row per class: ``support`` and, when computed, ``precision``, ``recall``,
        ``f1`` and ``auroc``.
    confusion : pandas.DataFrame or None
        Counts with reference classes as rows and predicted classes as columns.
    auroc : dict of str to float, or None
        One-vs-rest AUROC averaged ``"macro"`` and ``"weighted"`` (by support) over the
        classes where it is defined (at least one positive and one negative row).
    ece : float or None
        Expected calibration error of the top-class probability over ``ece_bins``
        equal-width bins.
    ece_bins : int
        Number of bins used for ``ece``.
    krippendorff_alpha : float or None
        Nominal Krippendorff's alpha between reference and prediction; NaN when both
        use a single class throughout (no variation to agree on).
    """

    classes: list[str]
    n: int
    n_dropped: int
    accuracy: float | None = None
    precision: dict[str, float] | None = None
    recall: dict[str, float] | None = None
    f1: dict[str, float] | None = None
    per_class: pd.DataFrame = field(default_factory=pd.DataFrame)
    confusion: pd.DataFrame | None = None
    auroc: dict[str, float] | None = None
    ece: float | None = None
    ece_bins: int = 15
    krippendorff_alpha: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return every metric as plain Python types (JSON-ready; NaN stays ``float('nan')``).

        Returns
        -------
        dict
            Keys ``classes``, ``n``, ``n_dropped``, ``accuracy``, ``precision``,
            ``recall``, ``f1``, ``per_class`` (class -> metric -> value), ``confusion``
            (reference class -> predicted class -> count), ``auroc``, ``ece``,
            ``ece_bins`` and ``krippendorff_alpha``.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": ["a", "b"], "p": ["a", "a"]})
        >>> evaluate_emotions(df, truth="y", pred="p").to_dict()["confusion"]
        {'a': {'a': 1, 'b': 0}, 'b': {'a': 1, 'b': 0}}
        """
        per_class = {
            str(label): {str(k): _plain(v) for k, v in row.items()}
            for label, row in self.per_class.to_dict(orient="index").items()
        }
        confusion = None
        if self.confusion is not None:
            confusion = {
                str(label): {str(k): int(v) for k, v in row.items()}
                for label, row in self.confusion.to_dict(orient="index").items()
            }
        return {
            "classes": list(self.classes),
            "n": int(self.n),
            "n_dropped": int(self.n_dropped),
            "accuracy": _plain(self.accuracy),
            "precision": _plain_dict(self.precision),
            "recall": _plain_dict(self.recall),
            "f1": _plain_dict(self.f1),
            "per_class": per_class,
            "confusion": confusion,
            "auroc": _plain_dict(self.auroc),
            "ece": _plain(self.ece),
            "ece_bins": int(self.ece_bins),
            "krippendorff_alpha": _plain(self.krippendorff_alpha),
        }

    def to_frame(self, name: str | None = None) -> pd.DataFrame:
        """One-row summary, for comparison tables of several models.

        Parameters
        ----------
        name : str, optional
            Row label, e.g. the model alias.

        Returns
        -------
        pandas.DataFrame
            Columns ``n``, ``n_dropped``, ``accuracy``, ``<metric>_<average>`` for
            precision / recall / F1 / AUROC, ``ece``, ``krippendorff_alpha`` and
            ``<metric>_<class>`` per class (metrics not computed are left out).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": ["a", "b", "b"], "p": ["a", "b", "a"]})
        >>> row = evaluate_emotions(df, truth="y", pred="p").to_frame("model")
        >>> row.loc["model", ["accuracy", "recall_b"]].round(3).tolist()
        [0.667, 0.5]
        """
        row: dict[str, Any] = {"n": self.n, "n_dropped": self.n_dropped}
        if self.accuracy is not None:
            row["accuracy"] = self.accuracy
        for metric in ("precision", "recall", "f1", "auroc"):
            averages = getattr(self, metric)
            if averages is not None:
                row.update({f"{metric}_{average}": value for average, value in averages.items()})
        if self.ece is not None:
            row["ece"] = self.ece
        if self.krippendorff_alpha is not None:
            row["krippendorff_alpha"] = self.krippendorff_alpha
        for metric in ("precision", "recall", "f1", "auroc"):
            if metric in self.per_class.columns:
                row.update({f"{metric}_{label}": value for label, value in self.per_class[metric].items()})
        return pd.DataFrame([row], index=[name if name is not None else 0])

    def __repr__(self) -> str:
        parts = [f"n={self.n}", f"n_dropped={self.n_dropped}"]
        if self.accuracy is not None:
            parts.append(f"accuracy={self.accuracy:.3f}")
        if self.f1 is not None:
            parts.append(f"f1_macro={self.f1['macro']:.3f}")
        if self.auroc is not None:
            parts.append(f"auroc_macro={self.auroc['macro']:.3f}")
        if self.ece is not None:
            parts.append(f"ece={self.ece:.3f}")
        if self.krippendorff_alpha is not None:
            parts.append(f"alpha={self.krippendorff_alpha:.3f}")
        return f"EmotionEvaluation({', '.join(parts)}, classes={self.classes})"


def evaluate_emotions(
    data: pd.DataFrame | str | os.PathLike,
    truth: str,
    pred: str | None = None,
    probs: Mapping[str, str] | Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    metrics: Iterable[str] | None = None,
    *,
    ece_bins: int = 15,
    na_rm: bool = True,
) -> EmotionEvaluation:
    """Compare model output for each row of ``data`` with a reference label.

    Parameters
    ----------
    data : pandas.DataFrame, str or path-like
        One row per rated item (image or frame), e.g. the output of ``image_scores``
        with a column of human labels added, or the path of a CSV file holding it.
    truth : str
        Column holding the reference class of each row.
    pred : str, optional
        Column holding the predicted class. When omitted it is the class with the
        highest probability (ties go to the first class in ``classes``).
    probs : dict of str to str, or list of str, optional
        Probability (or score) columns: a dict ``class -> column`` or a list of columns
        named after the classes, optionally with transforEmotion's ``prob_`` prefix
        (``prob_joy`` holds class ``joy``). When ``classes`` is given, has as many
        entries as the list and no column name matches a class, the list is paired
        with ``classes`` by position, as transforEmotion does. When neither ``pred``
        nor ``probs`` is given, the columns named after ``classes`` are used.
    classes : list of str, optional
        Classes to evaluate, in the order of every per-class result. Defaults to the
        keys of ``probs`` when given, else the sorted labels seen in ``truth`` and
        ``pred``.
    metrics : iterable of str, optional
        Subset of ``ALL_METRICS`` (``"accuracy"``, ``"precision"``, ``"recall"``,
        ``"f1"``, ``"confusion"``, ``"auroc"``, ``"ece"``, ``"alpha"``), or
        transforEmotion's names (``"f1_macro"``, ``"f1_micro"``,
        ``"confusion_matrix"``, ``"krippendorff"``, see ``METRIC_ALIASES``). Defaults to
        all of them, leaving out ``"auroc"`` and ``"ece"`` when there are no
        probabilities.
    ece_bins : int, default 15
        Equal-width confidence bins for the expected calibration error.
    na_rm : bool, default True
        Drop rows whose reference, prediction or a probability is missing, with a
        warning that says how many. ``False`` makes such rows an error.

    Returns
    -------
    EmotionEvaluation
        The metrics, with ``n`` rows used and ``n_dropped`` rows dropped because the
        reference, the prediction or a probability was missing (NaN / None).

    Raises
    ------
    InvalidInputError
        ``data`` is not a DataFrame or a readable CSV file, is empty (or empty after
        dropping missing rows), has missing values with ``na_rm=False``, a named
        column is missing, a probability column is not numeric, a metric name is
        unknown, or ``"auroc"`` / ``"ece"`` is requested without probabilities.
    InvalidLabelsError
        Fewer than two classes, duplicate classes, probability columns naming classes
        outside ``classes``, or reference / predicted labels outside ``classes``.

    Notes
    -----
    * Predicted classes from probabilities are the row-wise argmax. For the calibration
      error the probabilities are renormalised over ``classes`` per row, so that scores
      of models whose outputs do not sum to one (sigmoid scores, a subset of labels) are
      a distribution over the evaluated classes; AUROC uses the scores as given.
    * AUROC is the Mann-Whitney statistic with mid-ranks, so tied scores count one half,
      exactly as the area under the trapezoidal ROC curve. It is NaN for a class with no
      positive or no negative row, and such classes are left out of the averages.
    * Krippendorff's alpha treats the reference and the model as two coders of nominal
      data (each row is one unit with two values).

    Warns
    -----
    UserWarning
        Rows were dropped because of missing values (``na_rm=True``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"human": ["happy", "sad", "sad", None],
    ...                    "model": ["happy", "sad", "happy", "happy"]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     result = evaluate_emotions(df, truth="human", pred="model")
    >>> result.n, result.n_dropped, round(result.accuracy, 3)
    (3, 1, 0.667)
    """
    frame = require_frame(_read_table(data), "data", task="evaluate", unique_columns=True)
    if not isinstance(na_rm, (bool, np.bool_)):
        raise InvalidInputError(f"na_rm must be True or False, got {na_rm!r}")
    requested = _resolve_metrics(metrics)
    if not isinstance(ece_bins, (int, np.integer)) or isinstance(ece_bins, bool) or ece_bins < 1:
        raise InvalidInputError(f"ece_bins must be a positive integer, got {ece_bins!r}")

    require_columns(frame, [truth] + ([pred] if pred is not None else []), "data", "truth/pred")
    class_list, prob_columns = _resolve_classes_and_probs(frame, truth, pred, probs, classes)

    if requested is not None and prob_columns is None:
        missing = sorted(requested & _PROBABILITY_METRICS)
        if missing:
            raise InvalidInputError(
                f"metrics {missing} need class probabilities; pass probs= (a dict class -> "
                "column or a list of columns named after the classes)"
            )
    selected = set(requested) if requested is not None else set(ALL_METRICS)
    if prob_columns is None:
        selected -= _PROBABILITY_METRICS

    used_columns = [truth] + ([pred] if pred is not None else []) + list(prob_columns or [])
    complete = frame[used_columns].notna().all(axis=1).to_numpy()
    n_dropped = int((~complete).sum())
    if n_dropped and not na_rm:
        raise InvalidInputError(
            f"{n_dropped} of {len(frame)} rows miss the reference, the prediction or a probability "
            f"(columns {[str(c) for c in used_columns]}); pass na_rm=True to drop them or fill them in"
        )
    kept = frame.loc[complete]
    if kept.empty:
        raise InvalidInputError(
            f"no rows left to evaluate: all {len(frame)} rows miss the reference, the "
            "prediction or a probability; check the columns passed as truth/pred/probs"
        )
    if n_dropped:
        warnings.warn(
            f"dropped {n_dropped} of {len(frame)} rows with a missing reference, prediction or "
            "probability; the metrics use the other rows",
            UserWarning,
            stacklevel=2,
        )

    index_of = {label: i for i, label in enumerate(class_list)}
    y_true = _encode(kept[truth], index_of, "reference labels", truth)

    probabilities = None
    if prob_columns is not None:
        probabilities = _numeric_matrix(kept, prob_columns)
    if pred is not None:
        y_pred = _encode(kept[pred], index_of, "predicted labels", pred)
    else:
        # without pred, _resolve_classes_and_probs has required probabilities
        assert probabilities is not None
        y_pred = np.argmax(probabilities, axis=1)

    n_classes = len(class_list)
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    support = counts.sum(axis=1)

    result = EmotionEvaluation(
        classes=list(class_list), n=int(len(y_true)), n_dropped=n_dropped, ece_bins=int(ece_bins)
    )
    per_class = pd.DataFrame({"support": support}, index=pd.Index(class_list, name="class"))

    if "accuracy" in selected:
        result.accuracy = float(np.trace(counts) / counts.sum())
    if selected & {"precision", "recall", "f1"}:
        scores = _precision_recall_f1(counts)
        for name in ("precision", "recall", "f1"):
            if name in selected:
                per_class[name] = scores[name]["per_class"]
                setattr(result, name, {avg: scores[name][avg] for avg in _AVERAGES})
    if "confusion" in selected:
        result.confusion = pd.DataFrame(
            counts,
            index=pd.Index(class_list, name="truth"),
            columns=pd.Index(class_list, name="predicted"),
        )
    # the probability metrics were removed from `selected` when there are no probabilities
    if "auroc" in selected:
        assert probabilities is not None
        per_class_auroc = np.array([one_vs_rest_auroc(y_true == k, probabilities[:, k]) for k in range(n_classes)])
        per_class["auroc"] = per_class_auroc
        defined = ~np.isnan(per_class_auroc)
        macro = float(per_class_auroc[defined].mean()) if defined.any() else math.nan
        weights = support[defined]
        weighted = (
            float(np.average(per_class_auroc[defined], weights=weights))
            if defined.any() and weights.sum() > 0
            else math.nan
        )
        result.auroc = {"macro": macro, "weighted": weighted}
    if "ece" in selected:
        assert probabilities is not None
        normalised = _normalise_rows(probabilities)
        confidence = normalised[np.arange(len(y_pred)), y_pred]
        result.ece = expected_calibration_error(confidence, y_pred == y_true, n_bins=ece_bins)
    if "alpha" in selected:
        result.krippendorff_alpha = krippendorff_alpha_nominal(np.column_stack([y_true, y_pred]))
    result.per_class = per_class
    return result


def one_vs_rest_auroc(is_positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for a binary outcome, ties counted one half.

    Parameters
    ----------
    is_positive : array of bool, shape (n,)
        True for rows of the positive class.
    score : array of float, shape (n,)
        Higher means more likely positive.

    Returns
    -------
    float
        The Mann-Whitney U statistic over (positives x negatives), computed with
        mid-ranks; NaN when there is no positive or no negative row.

    Examples
    --------
    >>> one_vs_rest_auroc(np.array([True, False, True]), np.array([0.8, 0.8, 0.1]))
    0.25
    """
    positive = np.asarray(is_positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(np.asarray(score, dtype=float), method="average")
    rank_sum = float(ranks[positive].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of top-class confidences.

    Rows are put in ``n_bins`` equal-width bins of confidence, ``(k/n_bins, (k+1)/n_bins]``
    (a confidence of exactly 0 goes to the first bin); the error is the row-weighted
    mean over bins of ``|accuracy(bin) - mean confidence(bin)|``.

    Parameters
    ----------
    confidence : array of float, shape (n,)
        Probability the model gave its predicted class, in [0, 1].
    correct : array of bool, shape (n,)
        Whether the predicted class was right.
    n_bins : int, default 15
        Number of bins.

    Returns
    -------
    float
        Between 0 (perfectly calibrated) and 1.

    Raises
    ------
    InvalidInputError
        Shapes differ, there are no rows, or a confidence is outside [0, 1].

    Examples
    --------
    >>> expected_calibration_error(np.array([0.75, 0.75, 0.5, 0.5]),
    ...                            np.array([True, True, True, False]), n_bins=10)
    0.125
    """
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=bool)
    if conf.shape != hit.shape or conf.ndim != 1 or conf.size == 0:
        raise InvalidInputError(
            "confidence and correct must be non-empty 1-D arrays of the same length, got "
            f"shapes {conf.shape} and {hit.shape}"
        )
    # small tolerance: renormalised probabilities can exceed 1 by rounding
    if np.any(conf < 0) or np.any(conf > 1 + 1e-9) or np.any(np.isnan(conf)):
        raise InvalidInputError("confidences must lie in [0, 1]; pass probabilities, not logits")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    error = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        error += in_bin.sum() * abs(hit[in_bin].mean() - conf[in_bin].mean())
    return float(error / conf.size)


def krippendorff_alpha_nominal(ratings: np.ndarray | pd.DataFrame) -> float:
    """Krippendorff's alpha for nominal data, computed exactly from the coincidence matrix.

    Parameters
    ----------
    ratings : array-like, shape (n_units, n_coders)
        The value each coder gave each unit; NaN / None for a missing rating. Values
        may be numbers or strings (only equality matters). Units with fewer than two
        ratings are not pairable and are ignored.

    Returns
    -------
    float
        ``1 - D_o / D_e``: 1 is perfect agreement, 0 agreement at chance level. NaN when
        all pairable values are one and the same category (``D_e = 0``).

    Raises
    ------
    InvalidInputError
        ``ratings`` is not two-dimensional or no unit has two ratings.

    Notes
    -----
    Each unit ``u`` with ``m_u >= 2`` values adds ``1 / (m_u - 1)`` to the coincidence
    ``o[c, k]`` for every ordered pair of values ``(c, k)`` from different coders. With
    ``n_c`` the row sums and ``n`` their total, nominal alpha is
    ``1 - (n - 1) * sum_{c != k} o[c, k] / sum_{c != k} n_c n_k``.

    Examples
    --------
    >>> krippendorff_alpha_nominal(np.array([["a", "a"], ["b", "b"], ["a", "b"]], dtype=object))
    0.4444444444444444
    """
    table = pd.DataFrame(ratings)
    if table.ndim != 2 or table.shape[1] < 2:
        raise InvalidInputError(
            "ratings must be a 2-D table with one row per unit and one column per coder "
            f"(at least two coders), got shape {table.shape}"
        )
    stacked = table.stack(future_stack=True).dropna()
    codes, categories = pd.factorize(stacked, sort=False)
    unit_of = stacked.index.get_level_values(0)
    n_categories = len(categories)
    coincidence = np.zeros((n_categories, n_categories))
    for _, positions in pd.Series(np.arange(len(codes)), index=unit_of).groupby(level=0):
        values = codes[positions.to_numpy()]
        m = values.size
        if m < 2:
            continue
        value_counts = np.bincount(values, minlength=n_categories).astype(float)
        # ordered pairs of distinct coders: n_c * n_k off the diagonal, n_c * (n_c - 1) on it
        pairs = np.outer(value_counts, value_counts) - np.diag(value_counts)
        coincidence += pairs / (m - 1)
    n_total = coincidence.sum()
    if n_total == 0:
        raise InvalidInputError(
            "no unit has two or more ratings, so agreement cannot be measured; each row "
            "needs at least two non-missing values"
        )
    marginals = coincidence.sum(axis=1)
    observed_disagreement = n_total - np.trace(coincidence)
    expected_disagreement = n_total**2 - float((marginals**2).sum())
    if expected_disagreement == 0:
        return math.nan
    return float(1.0 - (n_total - 1.0) * observed_disagreement / expected_disagreement)


# --------------------------------------------------------------------------- helpers


def _read_table(data: Any) -> Any:
    if not isinstance(data, (str, os.PathLike)):
        return data
    path = os.fspath(data)
    if not os.path.isfile(path):
        raise InvalidInputError(f"data file {path!r} not found; pass a data frame or the path of a CSV file")
    try:
        return pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"could not read {path!r} as CSV ({err}); pass a comma-separated file") from err


def _resolve_metrics(metrics: Iterable[str] | None) -> set[str] | None:
    if metrics is None:
        return None
    if isinstance(metrics, str):
        metrics = [metrics]
    names = list(metrics)
    unknown = sorted({str(m) for m in names} - set(ALL_METRICS) - set(METRIC_ALIASES))
    if unknown:
        raise InvalidInputError(
            f"unknown metrics {unknown}; choose from {list(ALL_METRICS)} or transforEmotion's {list(METRIC_ALIASES)}"
        )
    chosen = {METRIC_ALIASES.get(m, m) for m in names}
    if not chosen:
        raise InvalidInputError(f"metrics is empty; choose from {list(ALL_METRICS)}")
    return chosen


def _resolve_classes_and_probs(
    frame: pd.DataFrame,
    truth: str,
    pred: str | None,
    probs: Mapping[str, str] | Sequence[str] | None,
    classes: Sequence[str] | None,
) -> tuple[list[str], list[str] | None]:
    """Class order and, when there are probabilities, the column holding each class."""
    if classes is not None:
        if isinstance(classes, str):
            raise InvalidLabelsError(f"classes must be a list of class names, got the string {classes!r}")
        class_list = [str(c) for c in classes]
        _check_class_list(class_list)
    else:
        class_list = None

    if probs is None:
        if pred is not None:
            if class_list is None:
                seen = pd.concat([frame[truth], frame[pred]]).dropna().astype(str).unique()
                class_list = sorted(seen)
                _check_class_list(class_list)
            return class_list, None
        if class_list is None:
            class_list = sorted(frame[truth].dropna().astype(str).unique())
            _check_class_list(class_list)
        missing = [c for c in class_list if c not in frame.columns]
        if missing:
            raise InvalidInputError(
                f"no pred= or probs= given and data has no probability columns named {missing} "
                f"(its score columns are {score_columns(frame, exclude=[truth])}); pass pred= (a column "
                "of predicted classes) or probs= (the probability columns)"
            )
        return class_list, list(class_list)

    if isinstance(probs, str):
        raise InvalidInputError(f"probs must be a dict class -> column or a list of columns, got the string {probs!r}")
    if isinstance(probs, Mapping):
        column_of = {str(k): v for k, v in probs.items()}
    else:
        column_list = list(probs)
        if len(set(column_list)) != len(column_list):
            raise InvalidInputError(f"probs lists a column twice: {column_list}")
        column_of = _columns_by_class(column_list, class_list)
    if class_list is None:
        class_list = list(column_of)
        _check_class_list(class_list)
    unknown = [name for name in column_of if name not in class_list]
    if unknown:
        raise InvalidLabelsError(
            f"probability columns name classes {unknown} that are not in classes {class_list}; "
            "columns are matched to classes by name, so rename them or pass "
            "probs={class: column}"
        )
    without_column = [c for c in class_list if c not in column_of]
    if without_column:
        raise InvalidLabelsError(
            f"classes {without_column} have no probability column; give one for every class "
            "(probs={class: column}) or leave them out of classes"
        )
    ordered = [column_of[c] for c in class_list]
    require_columns(frame, ordered, "data", "probability")
    return class_list, ordered


def _columns_by_class(columns: list[Any], class_list: list[str] | None) -> dict[str, Any]:
    """Class -> column for a list of probability columns (see ``probs`` in evaluate_emotions)."""

    def class_of(column: Any) -> str:
        name = str(column)
        if class_list is not None and name in class_list:
            return name
        return name.removeprefix(PROBABILITY_PREFIX) if name.startswith(PROBABILITY_PREFIX) else name

    column_of = {class_of(c): c for c in columns}
    if class_list is not None and len(columns) == len(class_list) and not set(column_of) & set(class_list):
        # transforEmotion pairs probs_cols with classes by position
        return dict(zip(class_list, columns))
    return column_of


def _check_class_list(class_list: list[str]) -> None:
    if len(class_list) < 2:
        raise InvalidLabelsError(
            f"need at least two classes to evaluate a classifier, got {class_list}; pass "
            "classes= with every class the model can predict"
        )
    if len(set(class_list)) != len(class_list):
        duplicated = sorted({c for c in class_list if class_list.count(c) > 1})
        raise InvalidLabelsError(f"classes must be unique, {duplicated} appear more than once")


def _encode(values: pd.Series, index_of: dict[str, int], what: str, column: str) -> np.ndarray:
    as_text = values.astype(str)
    unknown = sorted(set(as_text.unique()) - set(index_of))
    if unknown:
        raise InvalidLabelsError(
            f"{what} in column {column!r} include {unknown[:10]} which are not among the classes "
            f"{list(index_of)}; pass classes= with every label used, or fix the labels"
        )
    return as_text.map(index_of).to_numpy(dtype=np.int64)


def _numeric_matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    not_numeric = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if not_numeric:
        raise InvalidInputError(f"probability columns {not_numeric} are not numeric")
    matrix = frame[columns].to_numpy(dtype=float)
    if not np.all(np.isfinite(matrix)):
        raise InvalidInputError("probability columns contain infinite values")
    return matrix


def _normalise_rows(probabilities: np.ndarray) -> np.ndarray:
    if np.any(probabilities < 0):
        raise InvalidInputError(
            "probability columns contain negative values; the calibration error needs "
            "probabilities (leave 'ece' out of metrics for raw scores)"
        )
    totals = probabilities.sum(axis=1, keepdims=True)
    if np.any(totals == 0):
        raise InvalidInputError("a row of probabilities sums to zero; cannot compute calibration")
    return probabilities / totals


def _precision_recall_f1(counts: np.ndarray) -> dict[str, dict[str, Any]]:
    true_positive = np.diag(counts).astype(float)
    predicted = counts.sum(axis=0).astype(float)
    actual = counts.sum(axis=1).astype(float)
    precision = _safe_divide(true_positive, predicted)
    recall = _safe_divide(true_positive, actual)
    f1 = _safe_divide(2 * true_positive, predicted + actual)
    total_tp, total = true_positive.sum(), counts.sum()
    # in single-label multi-class data every error is one false positive and one false
    # negative, so micro precision, recall and F1 all equal accuracy
    micro = float(total_tp / total)
    out: dict[str, dict[str, Any]] = {}
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        out[name] = {
            "per_class": values,
            "macro": float(values.mean()),
            "micro": micro,
            "weighted": float(np.average(values, weights=actual)),
        }
    return out


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    return value


def _plain_dict(values: dict[str, float] | None) -> dict[str, float] | None:
    return None if values is None else {k: _plain(v) for k, v in values.items()}
