"""Emotion probes: small classifiers trained on CLIP image embeddings.

A probe maps the L2-normalised image embedding of a face to class probabilities
with a multinomial logistic regression or a small MLP. It is a scikit-learn
estimator (``fit``, ``predict``, ``predict_proba``, ``score``, ``get_params``,
``clone``, pipelines) and a pybridge scorer, so ``image_scores(..., scorer=probe)``
and ``video_scores(..., scorer=probe)`` give emotion time series from a trained probe
in the usual tidy shape.

With ``zero_shot_init=True`` the logistic probe starts from the zero-shot classifier
(the text embeddings of the class names times the model's logit scale) and is
penalised towards it rather than towards zero, so a handful of labelled faces
improves on zero-shot scoring instead of starting from nothing.

Probes are saved as one ``.npz`` file holding plain arrays and a JSON metadata
record (model id and revision, classes, settings); loading never unpickles, so a
probe file received from a colleague cannot run code.

Examples
--------
>>> probe = EmotionProbe(model="oai-base").fit(train_paths, train_labels)  # doctest: +SKIP
>>> probe.predict_proba(test_paths).round(2)  # doctest: +SKIP
>>> series = video_scores("clip.mp4", scorer=probe)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..errors import (
    InvalidInputError,
    InvalidLabelsError,
    ModelMismatchError,
    NotFittedError,
)
from ..scores_table import get_provenance
from .embeddings import (
    ImageEmbedder,
    check_same_model,
    embedding_columns,
    embeddings_matrix,
    model_identity,
)

__all__ = ["EmotionProbe"]

_FORMAT = "pybridge-emotion-probe"
_FORMAT_VERSION = 1
_CACHE_SIZE = 4096


class EmotionProbe(ClassifierMixin, BaseEstimator):
    """A classifier on CLIP image embeddings, usable as a pybridge scorer.

    Parameters
    ----------
    model : str, default "oai-base"
        CLIP-like model alias whose image embeddings the probe reads.
    local_model_path : str or path-like, optional
        Local model folder replacing the alias's weights.
    classifier : {"logistic", "mlp"}, default "logistic"
        Multinomial logistic regression or a one-hidden-layer MLP (scikit-learn).
    face_selection : {"largest", "left", "right", "none"}, default "largest"
        Which face of each image is embedded (``"all"`` is not supported: one
        label per image).
    detector : {"mtcnn", "blazeface", "haar"}, default "mtcnn"
        Face detector (see :func:`pybridge.image_scores`).
    face_threshold : float, optional
        Smallest detector confidence a face needs, in [0, 1] (default 0.9 for MTCNN).
    C : float, default 1.0
        Inverse L2-regularisation strength (``alpha = 1 / C`` for the MLP).
    hidden_layer_sizes : tuple of int, default (256,)
        MLP hidden layers.
    zero_shot_init : bool, default False
        Start from, and regularise towards, the zero-shot classifier made of the
        class names' text embeddings (logistic only).
    templates : str or sequence of str, optional
        Prompt templates for the zero-shot initialisation.
    max_iter : int, default 2000
        Optimiser iterations.
    batch_size : int, default 16
        Faces per forward pass when embedding images.
    device : str, optional
        Device of the embedding model.
    precision : {None, "fp32", "bf16", "fp16"}, optional
        Numeric precision of the embedding model (see :func:`pybridge.image_scores`).
    random_state : int, optional
        Seed of the MLP.

    Attributes
    ----------
    classes_ : numpy.ndarray
        Class labels seen in ``fit``, sorted.
    coef_, intercept_ : numpy.ndarray
        Logistic weights ``(n_classes, d)`` and biases (logistic only).
    model_identity_ : dict
        ``model``, ``model_id`` and ``revision`` of the embedding space.
    n_dropped_ : int
        Training images without an embedding (no face, unreadable), left out of
        the fit with a warning.

    Examples
    --------
    >>> probe = EmotionProbe(classifier="logistic", face_selection="none")  # doctest: +SKIP
    >>> probe.fit(images, labels).score(test_images, test_labels)  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str = "oai-base",
        local_model_path: str | os.PathLike | None = None,
        classifier: str = "logistic",
        face_selection: str = "largest",
        C: float = 1.0,
        hidden_layer_sizes: tuple[int, ...] = (256,),
        zero_shot_init: bool = False,
        templates: Any = None,
        max_iter: int = 2000,
        batch_size: int = 16,
        device: str | None = None,
        random_state: int | None = None,
        precision: str | None = None,
        detector: str = "mtcnn",
        face_threshold: float | None = None,
    ) -> None:
        self.model = model
        self.local_model_path = local_model_path
        self.classifier = classifier
        self.face_selection = face_selection
        self.C = C
        self.hidden_layer_sizes = hidden_layer_sizes
        self.zero_shot_init = zero_shot_init
        self.templates = templates
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state
        self.precision = precision
        self.detector = detector
        self.face_threshold = face_threshold

    # ------------------------------------------------------------------ embeddings

    def _loaded_model(self):
        from ..models import get_model

        options = {"device": self.device, "precision": self.precision}
        return get_model(self.model, self.local_model_path, **{key: value for key, value in options.items() if value})

    def _model_identity(self) -> dict:
        return model_identity(self._loaded_model().provenance())

    def _embed(self, X: Any) -> tuple[np.ndarray, dict | None]:
        """Embeddings of X (images, an image_embeddings table or an array) and their model identity."""
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            if not embedding_columns(X):
                raise InvalidInputError(
                    "this DataFrame has no embedding columns (e0, e1, ...); pass images or a table made by "
                    "pybridge.image_embeddings()"
                )
            return embeddings_matrix(X), model_identity(get_provenance(X)) if get_provenance(X) else None
        if isinstance(X, np.ndarray) and X.ndim == 2 and np.issubdtype(X.dtype, np.number):
            return X.astype(np.float64), None
        return self._embed_images(X), self._model_identity()

    def _embed_images(self, images: Any) -> np.ndarray:
        from .image_scoring import expand_inputs, image_scores

        if self.face_selection == "all":
            raise InvalidInputError(
                "EmotionProbe needs one face per image; use face_selection 'largest', 'left', 'right' or 'none'"
            )
        sources = expand_inputs(images, None, False)
        cache = self.__dict__.setdefault("_embedding_cache", OrderedDict())
        face_settings = (self.face_selection, self.detector, self.face_threshold)
        keys = [_cache_key(source, face_settings) for source in sources]
        missing = [i for i, key in enumerate(keys) if key is None or key not in cache]
        if missing:
            table = image_scores(
                [sources[i] for i in missing], None, self.face_selection, scorer=self._embedder(), batch_size=self.batch_size,
                progress=False, detector=self.detector, face_threshold=self.face_threshold,
            )  # fmt: skip
            fresh = embeddings_matrix(table)
        rows: list[np.ndarray] = [None] * len(sources)  # type: ignore[list-item]
        for position, i in enumerate(missing):
            rows[i] = fresh[position]
            if keys[i] is not None:
                cache[keys[i]] = fresh[position]
                if len(cache) > _CACHE_SIZE:
                    cache.popitem(last=False)
        for i, key in enumerate(keys):
            if rows[i] is None:
                rows[i] = cache[key]
        return np.vstack(rows)

    # ------------------------------------------------------------------------- fit

    def fit(self, X: Any, y: Sequence[Any]):
        """Embed images (or take embeddings) and train the probe.

        Parameters
        ----------
        X : images, an :func:`pybridge.image_embeddings` table, or an array ``(n, d)``
            Training inputs; images are embedded with ``model`` (cached).
        y : sequence
            One class label per input.

        Returns
        -------
        EmotionProbe
            ``self``, fitted.

        Raises
        ------
        InvalidInputError
            Empty input, ``y`` of the wrong length, NaN labels, a bad ``classifier``.
        InvalidLabelsError
            Fewer than two classes.
        ModelMismatchError
            Embeddings made with a different model than ``model``.

        Examples
        --------
        >>> probe = EmotionProbe(model="oai-base").fit(train_paths, train_labels)  # doctest: +SKIP
        """
        embeddings, identity = self._embed(X)
        if identity is not None:
            check_same_model(self._model_identity_for_check(), identity, "these embeddings")
        return self._fit_matrix(embeddings, y, identity)

    def fit_embeddings(self, embeddings: Any, y: Sequence[Any], model_identity_: dict | None = None):
        """Train on precomputed embeddings.

        Parameters
        ----------
        embeddings : array-like ``(n, d)`` or an :func:`pybridge.image_embeddings` table
            L2-normalised image embeddings of ``model``.
        y : sequence
            One class label per row.
        model_identity_ : dict, optional
            ``{"model_id": ..., "revision": ...}`` of the embeddings when they are a
            bare array (recorded and checked later); a table carries its own.

        Returns
        -------
        EmotionProbe
            ``self``, fitted.

        Raises
        ------
        InvalidInputError, InvalidLabelsError
            As :meth:`fit`.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = np.vstack([rng.normal(1, 0.1, (4, 3)), rng.normal(-1, 0.1, (4, 3))])
        >>> probe = EmotionProbe().fit_embeddings(X, ["happy"] * 4 + ["sad"] * 4)
        >>> probe.columns
        ['happy', 'sad']
        """
        import pandas as pd

        if isinstance(embeddings, pd.DataFrame):
            return self.fit(embeddings, y)  # a table carries its model: checked like in fit()
        matrix = np.asarray(embeddings, dtype=np.float64)
        if matrix.ndim != 2:
            raise InvalidInputError(f"embeddings must be a 2-D array (n, d); got shape {matrix.shape}")
        return self._fit_matrix(matrix, y, model_identity_)

    def _model_identity_for_check(self) -> dict:
        from ..models.manager import resolve_spec

        spec = resolve_spec(self.model, self.local_model_path)
        return {"model_id": spec.source, "revision": None}

    def _fit_matrix(self, matrix: np.ndarray, y: Sequence[Any], identity: dict | None):
        if self.classifier not in ("logistic", "mlp"):
            raise InvalidInputError(f"classifier must be 'logistic' or 'mlp'; got {self.classifier!r}")
        if len(matrix) == 0:
            raise InvalidInputError("no training data: pass at least two labelled images per class")
        labels = np.asarray(list(y), dtype=object)
        if len(labels) != len(matrix):
            raise InvalidInputError(f"y has {len(labels)} labels for {len(matrix)} inputs; give one label per input")
        if any(label is None or (isinstance(label, float) and np.isnan(label)) for label in labels):
            raise InvalidInputError("y contains missing labels (None/NaN); drop those inputs or label them")
        usable = ~np.isnan(matrix).any(axis=1)
        self.n_dropped_ = int((~usable).sum())
        if self.n_dropped_:
            warnings.warn(
                f"{self.n_dropped_} of {len(matrix)} training inputs have no embedding (no face or unreadable) "
                "and were left out of the fit",
                UserWarning,
                stacklevel=3,
            )
        matrix, labels = matrix[usable], labels[usable]
        classes = np.array(sorted({str(label) for label in labels}), dtype=object)
        if len(classes) < 2:
            raise InvalidLabelsError(
                f"a probe needs at least two classes; y has only {list(classes)} among the usable inputs"
            )
        targets = np.searchsorted(classes.astype(str), labels.astype(str))
        self.classes_ = classes
        self.n_features_in_ = matrix.shape[1]
        self.model_identity_ = identity or {"model": self.model, "model_id": None, "revision": None}
        if self.classifier == "logistic":
            self._fit_logistic(matrix, targets)
        else:
            self._fit_mlp(matrix, targets)
        return self

    def _fit_logistic(self, matrix: np.ndarray, targets: np.ndarray) -> None:
        prior = self._zero_shot_prior(matrix.shape[1]) if self.zero_shot_init else None
        if prior is None:
            from sklearn.linear_model import LogisticRegression

            fitted = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(matrix, targets)
            coef, intercept = fitted.coef_, fitted.intercept_
            if coef.shape[0] == 1:  # binary: sklearn keeps one row; store the softmax form
                coef = np.vstack([-coef[0] / 2, coef[0] / 2])
                intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        else:
            coef, intercept = _anchored_logistic(matrix, targets, len(self.classes_), prior, self.C, self.max_iter)
        self.coef_, self.intercept_ = coef, intercept
        self.layers_ = [(coef.T.copy(), intercept.copy())]

    def _zero_shot_prior(self, width: int) -> np.ndarray:
        from .scoring import label_embeddings, normalise_templates

        loaded = self._loaded_model()
        texts = label_embeddings(loaded, [str(c) for c in self.classes_], normalise_templates(self.templates))
        prior = texts.double().numpy() * float(loaded.logit_scale)
        if prior.shape[1] != width:
            raise ModelMismatchError(
                f"the embeddings have width {width} but {self.model!r} embeds into {prior.shape[1]} dimensions; "
                "they come from another model"
            )
        return prior

    def _fit_mlp(self, matrix: np.ndarray, targets: np.ndarray) -> None:
        from sklearn.neural_network import MLPClassifier

        if self.zero_shot_init:
            raise InvalidInputError("zero_shot_init applies to classifier='logistic' only")
        fitted = MLPClassifier(
            hidden_layer_sizes=tuple(self.hidden_layer_sizes), alpha=1.0 / self.C, max_iter=self.max_iter,
            random_state=self.random_state,
        ).fit(matrix, targets)  # fmt: skip
        layers = [(w.copy(), b.copy()) for w, b in zip(fitted.coefs_, fitted.intercepts_)]
        if layers[-1][0].shape[1] == 1:  # binary MLP: one logistic output; store the softmax form
            w, b = layers[-1]
            layers[-1] = (np.hstack([-w / 2, w / 2]), np.concatenate([-b / 2, b / 2]))
        self.layers_ = layers

    # --------------------------------------------------------------------- predict

    def _check_fitted(self) -> None:
        if not hasattr(self, "layers_"):
            raise NotFittedError(
                "this EmotionProbe is not fitted yet; call fit() or fit_embeddings() first, or EmotionProbe.load()"
            )

    def _matrix_for_prediction(self, X: Any) -> np.ndarray:
        self._check_fitted()
        matrix, identity = (self._embedder().score(X), None) if _is_face_list(X) else self._embed(X)
        if identity is not None:
            check_same_model(self.model_identity_, identity, "these embeddings")
        if matrix.shape[1] != self.n_features_in_:
            raise ModelMismatchError(
                f"the embeddings have width {matrix.shape[1]}, but this probe was trained on width "
                f"{self.n_features_in_} ({self.model_identity_.get('model_id')}); use the probe's model"
            )
        return matrix

    def _proba_matrix(self, matrix: np.ndarray) -> np.ndarray:
        hidden = matrix
        for weights, bias in self.layers_[:-1]:
            hidden = np.maximum(hidden @ weights + bias, 0.0)
        weights, bias = self.layers_[-1]
        logits = hidden @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        expo = np.exp(logits)
        return expo / expo.sum(axis=1, keepdims=True)

    def predict_proba(self, X: Any):
        """Class probabilities.

        Parameters
        ----------
        X : images, an :func:`pybridge.image_embeddings` table, or an array ``(n, d)``

        Returns
        -------
        pandas.DataFrame
            One row per input, one column per class (``classes_``); rows sum to 1;
            inputs without an embedding (no face) are NaN rows, kept in place.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ModelMismatchError
            Embeddings of another model.

        Examples
        --------
        >>> probe.predict_proba(X[:1]).round(2)  # doctest: +SKIP
           happy   sad
        0   0.91  0.09
        """
        import pandas as pd

        matrix = self._matrix_for_prediction(X)
        probabilities = np.full((len(matrix), len(self.classes_)), np.nan)
        usable = ~np.isnan(matrix).any(axis=1)
        if usable.any():
            probabilities[usable] = self._proba_matrix(matrix[usable])
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(probabilities, columns=[str(c) for c in self.classes_], index=index)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class per input (``None`` where the input has no embedding).

        Parameters
        ----------
        X : images, embeddings table or array
            As in :meth:`predict_proba`.

        Returns
        -------
        numpy.ndarray of object, shape (n,)

        Raises
        ------
        NotFittedError, ModelMismatchError
            As :meth:`predict_proba`.

        Examples
        --------
        >>> probe.predict(X[:2])  # doctest: +SKIP
        array(['happy', 'happy'], dtype=object)
        """
        probabilities = self.predict_proba(X).to_numpy()
        labels = np.full(len(probabilities), None, dtype=object)
        usable = ~np.isnan(probabilities).any(axis=1)
        labels[usable] = self.classes_[probabilities[usable].argmax(axis=1)]
        return labels

    def score(self, X: Any, y: Sequence[Any], sample_weight=None) -> float:
        """Accuracy on the inputs that have an embedding.

        ``score`` keeps scikit-learn's meaning; scoring images for the result tables
        goes through :meth:`prepare` and :meth:`score_prepared`.

        Parameters
        ----------
        X : images, embeddings table or array
            As in :meth:`predict_proba`.
        y : sequence
            True class per input.
        sample_weight : array-like, optional
            Weight per input.

        Returns
        -------
        float
            Fraction of correctly predicted inputs among those with an embedding.

        Raises
        ------
        InvalidInputError
            ``y`` does not have one label per input, or no input has an embedding.
        NotFittedError, ModelMismatchError
            As :meth:`predict_proba`.

        Examples
        --------
        >>> probe.score(X, ["happy"] * 4 + ["sad"] * 4)  # doctest: +SKIP
        1.0
        """
        predicted = self.predict(X)
        truth = np.asarray([str(v) for v in y], dtype=object)
        if len(truth) != len(predicted):
            raise InvalidInputError(f"y has {len(truth)} labels for {len(predicted)} inputs; give one label per input")
        usable = np.array([p is not None for p in predicted])
        if not usable.any():
            raise InvalidInputError("none of the inputs has an embedding (no faces found); nothing to score")
        weights = None if sample_weight is None else np.asarray(sample_weight)[usable]
        return float(np.average(predicted[usable] == truth[usable], weights=weights))

    def cross_validate(self, X: Any, y: Sequence[Any], cv: int = 5) -> dict:
        """Cross-validated accuracy and macro F1 (embeddings computed once).

        Parameters
        ----------
        X : images, embeddings table or array
        y : sequence
        cv : int, default 5
            Stratified folds.

        Returns
        -------
        dict
            ``accuracy_mean``, ``accuracy_sd``, ``f1_macro_mean``, ``f1_macro_sd``,
            per-fold ``accuracy`` and ``f1_macro``, ``n``.

        Raises
        ------
        InvalidInputError, InvalidLabelsError
            As :meth:`fit`, or a class with fewer members than ``cv``.

        Examples
        --------
        >>> EmotionProbe().cross_validate(X, y, cv=3)["accuracy_mean"]  # doctest: +SKIP
        0.93
        """
        from sklearn.base import clone
        from sklearn.metrics import accuracy_score, f1_score
        from sklearn.model_selection import StratifiedKFold

        matrix, identity = self._embed(X)
        labels = np.asarray([str(v) for v in y], dtype=object)
        usable = ~np.isnan(matrix).any(axis=1)
        matrix, labels = matrix[usable], labels[usable]
        folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=0)
        accuracy, f1 = [], []
        for train, test in folds.split(matrix, labels):
            probe = clone(self).fit_embeddings(matrix[train], labels[train], identity)
            predicted = probe.predict(matrix[test])
            accuracy.append(accuracy_score(labels[test], predicted))
            f1.append(f1_score(labels[test], predicted, average="macro"))
        return {
            "accuracy_mean": float(np.mean(accuracy)), "accuracy_sd": float(np.std(accuracy, ddof=1)),
            "f1_macro_mean": float(np.mean(f1)), "f1_macro_sd": float(np.std(f1, ddof=1)),
            "accuracy": accuracy, "f1_macro": f1, "n": int(len(labels)),
        }  # fmt: skip

    # ------------------------------------------------------------- scorer protocol

    @property
    def columns(self) -> list[str]:
        """Class names as score columns (the scorer protocol).

        Returns
        -------
        list of str

        Raises
        ------
        NotFittedError
            Before ``fit``.

        Examples
        --------
        >>> probe.columns  # doctest: +SKIP
        ['happy', 'sad']
        """
        self._check_fitted()
        return [str(c) for c in self.classes_]

    @property
    def face_crop(self) -> str:
        """Face crop of the embedding model (the scorer protocol).

        Returns
        -------
        str
            The crop rule of ``model``'s spec.

        Raises
        ------
        UnknownModelError
            ``model`` is not a known alias or folder.

        Examples
        --------
        >>> EmotionProbe(model="oai-base").face_crop  # doctest: +SKIP
        """
        from ..models.manager import resolve_spec

        return resolve_spec(self.model, self.local_model_path).face_crop

    def _embedder(self) -> ImageEmbedder:
        embedder = self.__dict__.get("_embedder_cache")
        if embedder is None:
            embedder = ImageEmbedder(self._loaded_model(), batch_size=self.batch_size)
            self.__dict__["_embedder_cache"] = embedder
        return embedder

    def prepare(self, faces: list[np.ndarray]):
        """Preprocess RGB uint8 face crops for the embedding model (the scorer protocol).

        Together with :meth:`score_prepared` this is what ``image_scores`` and
        ``video_scores`` call; ``score`` keeps scikit-learn's meaning (accuracy).

        Parameters
        ----------
        faces : list of numpy.ndarray
            RGB uint8 face crops.

        Returns
        -------
        torch.Tensor
            Pixel values for :meth:`score_prepared`.

        Raises
        ------
        NotFittedError
            Before ``fit``.

        Examples
        --------
        >>> probe.score_prepared(probe.prepare([face]))  # doctest: +SKIP
        """
        self._check_fitted()
        return self._embedder().prepare(faces)

    def score_prepared(self, pixel_values) -> np.ndarray:
        """Class probabilities of pixels from :meth:`prepare`.

        Parameters
        ----------
        pixel_values : torch.Tensor
            Output of :meth:`prepare`.

        Returns
        -------
        numpy.ndarray, shape (n, n_classes)
            Rows sum to 1; columns follow :attr:`columns`.

        Raises
        ------
        ModelMismatchError
            When the loaded model is not the one the probe was trained on.

        Examples
        --------
        >>> probe.score_prepared(probe.prepare([face])).shape  # doctest: +SKIP
        (1, 2)
        """
        embedder = self._embedder()
        check_same_model(self.model_identity_, model_identity(embedder.provenance()), "the scoring model's embeddings")
        return self._proba_matrix(embedder.score_prepared(pixel_values))

    def provenance(self) -> dict:
        """Provenance of scores made by this probe.

        Returns
        -------
        dict
            The embedding model's provenance plus the class labels and the probe's
            settings (stored in the result table's ``attrs``).

        Raises
        ------
        NotFittedError
            Before ``fit``.

        Examples
        --------
        >>> probe.provenance()["scorer"]  # doctest: +SKIP
        'EmotionProbe'
        """
        self._check_fitted()
        return {
            **self._loaded_model().provenance(),
            "labels": self.columns,
            "templates": None,
            "scorer": "EmotionProbe",
            "probe": {"classifier": self.classifier, "C": self.C, "zero_shot_init": self.zero_shot_init},
        }

    # --------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike) -> Path:
        """Save the fitted probe as one ``.npz`` file (arrays + JSON metadata; no pickle).

        Parameters
        ----------
        path : str or path-like
            Target file; ``.npz`` is appended when missing.

        Returns
        -------
        pathlib.Path
            The file written.

        Raises
        ------
        NotFittedError
            Before ``fit``.

        Examples
        --------
        >>> probe.save(tmp_path / "probe.npz")  # doctest: +SKIP
        PosixPath('.../probe.npz')
        """
        self._check_fitted()
        target = Path(path)
        if target.suffix != ".npz":
            target = target.with_name(target.name + ".npz")
        metadata = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()
                       if k not in ("local_model_path",)},
            "local_model_path": None if self.local_model_path is None else os.fspath(self.local_model_path),
            "classes": [str(c) for c in self.classes_],
            "model_identity": self.model_identity_,
            "n_features_in": int(self.n_features_in_),
            "n_layers": len(self.layers_),
        }  # fmt: skip
        arrays: dict[str, Any] = {"metadata": np.array(json.dumps(metadata))}
        for k, (weights, bias) in enumerate(self.layers_):
            arrays[f"weights_{k}"] = weights
            arrays[f"bias_{k}"] = bias
        target.parent.mkdir(parents=True, exist_ok=True)
        np.savez(target, **arrays)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike) -> EmotionProbe:
        """Load a probe saved by :meth:`save`.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        EmotionProbe
            Fitted, with the recorded model id and revision.

        Raises
        ------
        InvalidInputError
            Missing file, not a pybridge probe file (never unpickled), an unknown
            ``format_version`` or classifier name.

        Examples
        --------
        >>> probe = EmotionProbe.load("probe.npz")  # doctest: +SKIP
        """
        source = Path(path)
        if not source.is_file():
            raise InvalidInputError(f"probe file not found: {source}")
        refuse = f"{source} is not a pybridge probe file"
        fix = "pass a file written by EmotionProbe.save() (a probe file holds only arrays and JSON)"
        try:
            with np.load(source, allow_pickle=False) as stored:
                metadata = json.loads(str(stored["metadata"]))
                if not isinstance(metadata, dict) or metadata.get("format") != _FORMAT:
                    raise InvalidInputError(f"{refuse}; {fix}")
                if metadata.get("format_version") != _FORMAT_VERSION:
                    raise InvalidInputError(
                        f"{source} is a probe file of format version {metadata.get('format_version')!r}; this "
                        f"pybridge reads version {_FORMAT_VERSION}. Update pybridge, or save the probe again with "
                        "this version"
                    )
                n_layers = metadata["n_layers"]
                if (
                    isinstance(n_layers, bool)
                    or not isinstance(n_layers, int)
                    or not 1 <= n_layers <= len(stored.files)
                ):
                    raise InvalidInputError(f"{refuse} (it names {n_layers!r} layers); {fix}")
                layers = [(stored[f"weights_{k}"], stored[f"bias_{k}"]) for k in range(n_layers)]
        except InvalidInputError:
            raise
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as err:
            # numpy's own text for object arrays advises allow_pickle; a probe never needs it
            reason = "it holds Python objects" if "pickle" in str(err) else f"{type(err).__name__}: {err}"
            raise InvalidInputError(f"{refuse} ({reason}); {fix}") from None
        params = metadata.get("params")
        if not isinstance(params, dict) or params.get("classifier") not in ("logistic", "mlp"):
            classifier = params.get("classifier") if isinstance(params, dict) else None
            raise InvalidInputError(
                f"{source} names the classifier {classifier!r}; this pybridge knows 'logistic' and 'mlp'. "
                "Update pybridge, or fit and save the probe again"
            )
        params = dict(params)
        params["hidden_layer_sizes"] = tuple(params.get("hidden_layer_sizes", (256,)))
        probe = cls(local_model_path=metadata.get("local_model_path"), **params)
        probe.classes_ = np.array(metadata["classes"], dtype=object)
        probe.model_identity_ = metadata["model_identity"]
        probe.n_features_in_ = metadata["n_features_in"]
        probe.layers_ = layers
        probe.n_dropped_ = 0
        if probe.classifier == "logistic":
            probe.coef_, probe.intercept_ = layers[0][0].T.copy(), layers[0][1].copy()
        return probe


def _is_face_list(X: Any) -> bool:
    return isinstance(X, list) and bool(X) and all(isinstance(x, np.ndarray) and x.ndim == 3 for x in X)


def _cache_key(source: Any, face_settings: tuple):
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            stat = path.stat()
        except OSError:
            return None
        return (os.fspath(path.resolve()), stat.st_mtime_ns, stat.st_size, face_settings)
    return None


def _anchored_logistic(matrix, targets, n_classes, prior, C, max_iter):
    """Multinomial logistic regression penalised towards ``prior`` instead of zero.

    Minimises ``sum_i -log softmax(W x_i + b)[y_i] + ||W - prior||^2 / (2 C)`` with
    L-BFGS; ``b`` is not penalised. Starting at ``W = prior`` means an
    unconverged or data-poor fit stays close to zero-shot scoring.
    """
    from scipy.optimize import minimize

    n, width = matrix.shape
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), targets] = 1.0

    def objective(theta):
        weights = theta[: n_classes * width].reshape(n_classes, width)
        bias = theta[n_classes * width :]
        logits = matrix @ weights.T + bias
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
        log_prob = logits - log_norm
        diff = weights - prior
        value = -(onehot * log_prob).sum() + (diff**2).sum() / (2 * C)
        residual = np.exp(log_prob) - onehot
        grad_w = residual.T @ matrix + diff / C
        grad_b = residual.sum(axis=0)
        return value, np.concatenate([grad_w.ravel(), grad_b])

    start = np.concatenate([prior.ravel(), np.zeros(n_classes)])
    result = minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    theta = result.x
    return theta[: n_classes * width].reshape(n_classes, width), theta[n_classes * width :]
