"""Image and text embeddings of CLIP-like models, and 2-D maps of them.

:func:`image_embeddings` runs the same face pipeline as :func:`pybridge.image_scores`
(detect, select, crop, batch-encode) and keeps the L2-normalised image embedding
instead of label probabilities, so it follows the same row contract: one row per
input (per face with ``face_selection="all"``), failures kept as NaN rows with a
reason. The embedding columns are ``e0 .. e{d-1}``; ``attrs["pybridge"]`` records the
model id and revision, which :class:`pybridge.EmotionProbe` checks before applying a
probe to embeddings.

Examples
--------
>>> emb = image_embeddings(["a.jpg", "b.jpg"], model="oai-base")  # doctest: +SKIP
>>> emb.filter(like="e").shape  # doctest: +SKIP
(2, 512)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError, ModelMismatchError
from ..scores_table import get_provenance, set_provenance
from .faces import DEFAULT_DETECTION_SIZE, DEFAULT_DETECTOR, resolve_detector
from .scoring import encode_pixels_in_batches, label_embeddings, preprocess_faces, validate_labels

__all__ = [
    "EmbeddingMap",
    "ImageEmbedder",
    "embedding_columns",
    "embedding_map",
    "embeddings_matrix",
    "image_embeddings",
    "text_embeddings",
]

EMBEDDING_PREFIX = "e"


def embedding_columns(frame) -> list[str]:
    """Names of the embedding columns (``e0``, ``e1``, ...) of an embeddings table, in order.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table from :func:`image_embeddings` (other columns are ignored).

    Returns
    -------
    list of str
        The embedding column names sorted by their index (``e2`` before ``e10``);
        empty when the table has none.

    Raises
    ------
    InvalidInputError
        ``frame`` is not a table (it has no columns).

    Examples
    --------
    >>> import pandas as pd
    >>> embedding_columns(pd.DataFrame(columns=["image", "e0", "e1", "happy"]))
    ['e0', 'e1']
    """
    if not hasattr(frame, "columns"):
        raise InvalidInputError(
            f"expected an embeddings table (pandas.DataFrame) from pybridge.image_embeddings(), "
            f"got {type(frame).__name__}"
        )
    names = [c for c in frame.columns if isinstance(c, str) and c[:1] == EMBEDDING_PREFIX and c[1:].isdigit()]
    return sorted(names, key=lambda c: int(c[1:]))


def embeddings_matrix(frame) -> np.ndarray:
    """The ``(n, d)`` float64 embedding block of an :func:`image_embeddings` table.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table from :func:`image_embeddings`.

    Returns
    -------
    numpy.ndarray of float64, shape (n, d)
        Columns ``e0 .. e{d-1}`` in order.

    Raises
    ------
    InvalidInputError
        If the table has no embedding columns.

    Examples
    --------
    >>> import pandas as pd
    >>> embeddings_matrix(pd.DataFrame({"image": ["a"], "e1": [0.6], "e0": [0.8]}))
    array([[0.8, 0.6]])
    """
    columns = embedding_columns(frame)
    if not columns:
        raise InvalidInputError(
            "this table has no embedding columns (e0, e1, ...); make it with pybridge.image_embeddings()"
        )
    return frame[columns].to_numpy(dtype=np.float64)


def model_identity(provenance: dict | None) -> dict[str, Any]:
    """The part of a provenance record that identifies the embedding space.

    Parameters
    ----------
    provenance : dict or None
        A provenance record (``result.attrs["pybridge"]`` or ``scorer.provenance()``).

    Returns
    -------
    dict
        ``{"model": ..., "model_id": ..., "revision": ...}``; unknown fields are ``None``.

    Raises
    ------
    InvalidInputError
        ``provenance`` is neither a dict nor ``None``.

    Examples
    --------
    >>> model_identity({"model": "oai-base", "model_id": "openai/clip-vit-base-patch32", "device": "cpu"})
    {'model': 'oai-base', 'model_id': 'openai/clip-vit-base-patch32', 'revision': None}
    """
    provenance = provenance or {}
    if not isinstance(provenance, dict):
        raise InvalidInputError(
            f"provenance must be a dict (e.g. table.attrs['pybridge']), got {type(provenance).__name__}"
        )
    return {
        "model": provenance.get("model"),
        "model_id": provenance.get("model_id"),
        "revision": provenance.get("revision"),
    }


def check_same_model(expected: dict, found: dict, what: str) -> None:
    """Raise :class:`ModelMismatchError` when two embedding spaces differ.

    Only fields known on both sides are compared (a revision may be unknown).

    Parameters
    ----------
    expected : dict
        :func:`model_identity` of the space something was trained in.
    found : dict
        :func:`model_identity` of the embeddings offered now.
    what : str
        What is being checked, for the message (e.g. ``"these embeddings"``).

    Returns
    -------
    None

    Raises
    ------
    ModelMismatchError
        ``model_id`` or ``revision`` is known on both sides and differs.

    Examples
    --------
    >>> check_same_model({"model_id": "a"}, {"model_id": "a", "revision": "r1"}, "these embeddings")
    """
    for key in ("model_id", "revision"):
        if expected.get(key) is not None and found.get(key) is not None and expected[key] != found[key]:
            raise ModelMismatchError(
                f"{what} come from model {found.get('model_id')!r} (revision {found.get('revision')}), but this "
                f"was trained on {expected.get('model_id')!r} (revision {expected.get('revision')}); embeddings of "
                "different models live in different spaces: recompute them with the same model"
            )


class ImageEmbedder:
    """A scorer whose "scores" are the L2-normalised image embeddings.

    It plugs into the shared face pipeline (:func:`pybridge.vision.scoring.score_stream`),
    so embeddings and scores of the same frames come from identical crops.

    Parameters
    ----------
    model : LoadedEmbeddingModel
        From :func:`pybridge.models.get_model`.
    batch_size : int, default 16
        Faces per forward pass.

    Raises
    ------
    InvalidInputError
        For a fixed-class model (it has no embedding space).
    """

    def __init__(self, model, batch_size: int = 16) -> None:
        if model.kind != "embedding":
            raise InvalidInputError(
                f"{model.spec.alias!r} is a fixed-class classifier without an image-text embedding space; "
                "use a CLIP-like model (e.g. 'oai-base') for embeddings and probes"
            )
        self.model = model
        self.batch_size = batch_size
        self.face_crop = model.face_crop
        dim = int(model.encode_texts(["a face"]).shape[1])
        self.columns = [f"{EMBEDDING_PREFIX}{i}" for i in range(dim)]

    def prepare(self, faces: list[np.ndarray]):
        """Preprocess face crops into the model's pixel tensor.

        Parameters
        ----------
        faces : list of numpy.ndarray
            RGB uint8 face crops, shape ``(h, w, 3)`` each.

        Returns
        -------
        torch.Tensor
            Pixel values ready for :meth:`score_prepared`.

        Raises
        ------
        TypeError
            A crop is not an image array.

        Examples
        --------
        >>> pixels = embedder.prepare([face])  # doctest: +SKIP
        """
        return preprocess_faces(self.model, faces)

    def score_prepared(self, pixel_values) -> np.ndarray:
        """Embeddings of preprocessed pixels, batched by ``batch_size``.

        Parameters
        ----------
        pixel_values : torch.Tensor
            Output of :meth:`prepare`.

        Returns
        -------
        numpy.ndarray of float64, shape (n, d)
            L2-normalised image embeddings.

        Raises
        ------
        RuntimeError
            The tensor does not fit the model (torch's error).

        Examples
        --------
        >>> embedder.score_prepared(embedder.prepare([face])).shape  # doctest: +SKIP
        (1, 512)
        """
        return encode_pixels_in_batches(self.model, pixel_values, self.batch_size).double().numpy()

    def score(self, faces: list[np.ndarray]) -> np.ndarray:
        """Embeddings of RGB uint8 face crops.

        Parameters
        ----------
        faces : list of numpy.ndarray
            RGB uint8 face crops; an empty list gives an empty ``(0, d)`` array.

        Returns
        -------
        numpy.ndarray of float64, shape (len(faces), d)

        Raises
        ------
        TypeError
            As :meth:`prepare`.

        Examples
        --------
        >>> embedder.score([face]).shape  # doctest: +SKIP
        (1, 512)
        """
        if not faces:
            return np.empty((0, len(self.columns)))
        return self.score_prepared(self.prepare(faces))

    def provenance(self) -> dict:
        """Model provenance plus the embedding width.

        Returns
        -------
        dict
            The model's provenance with ``embedding_dim``; ``labels`` and
            ``templates`` are ``None`` (embeddings do not depend on them).

        Examples
        --------
        >>> embedder.provenance()["embedding_dim"]  # doctest: +SKIP
        512
        """
        return {**self.model.provenance(), "embedding_dim": len(self.columns), "labels": None, "templates": None}


def image_embeddings(
    images: Any,
    model: str = "oai-base",
    local_model_path: str | os.PathLike | None = None,
    face_selection: str = "largest",
    *,
    pattern: str | None = None,
    recursive: bool = False,
    batch_size: int = 16,
    device: Any = None,
    dtype: Any = None,
    precision: Any = None,
    progress: bool | None = None,
    trust_remote_code: bool | None = None,
    as_array: bool = False,
    detector: Any = DEFAULT_DETECTOR,
    face_threshold: float | None = None,
    face_detection_size: int | None = DEFAULT_DETECTION_SIZE,
):
    """L2-normalised image embeddings of the faces in images.

    Parameters
    ----------
    images : str, path-like, PIL.Image.Image, numpy.ndarray or a list of these
        As in :func:`pybridge.image_scores` (files, folders, URLs, PIL images,
        RGB arrays).
    model : str, default "oai-base"
        A CLIP-like model alias (not a fixed-class classifier).
    local_model_path : str or path-like, optional
        Local model folder replacing the alias's weights.
    face_selection : {"largest", "left", "right", "none", "all"}, default "largest"
        Which face to embed; ``"none"`` embeds the whole image.
    pattern, recursive
        Folder search options.
    batch_size : int, default 16
        Faces per forward pass.
    device : optional
        Force the device.
    dtype : optional
        Older name of ``precision``.
    precision : {None, "fp32", "bf16", "fp16"}, optional
        Numeric precision of the model, as in :func:`pybridge.image_scores`.
    progress : bool, optional
        Progress bar (default: when stderr is a terminal).
    trust_remote_code : bool, optional
        Allow a checkpoint's own code to run.
    as_array : bool, default False
        Return only the ``(n, d)`` array instead of the table.
    detector, face_threshold, face_detection_size
        Face detection, as in :func:`pybridge.image_scores`.

    Returns
    -------
    pandas.DataFrame or numpy.ndarray
        The table has the columns of :func:`pybridge.image_scores` up to ``reason``,
        then ``e0 .. e{d-1}``; rows without a face or unreadable have NaN
        embeddings and a ``reason``. ``attrs["pybridge"]`` holds the provenance
        (model id, revision, ...).

    Raises
    ------
    InvalidInputError
        No images, bad options, or a fixed-class model.
    UnknownModelError, ModelNotAvailableError, ModelLoadError
        Problems with the model.

    Examples
    --------
    >>> table = image_embeddings("faces/", model="oai-base")  # doctest: +SKIP
    """
    from ..models import get_model
    from .image_scoring import image_scores

    resolve_detector(detector, face_threshold, face_detection_size, face_selection)  # fail before the model loads
    options = {"device": device, "dtype": dtype, "precision": precision, "trust_remote_code": trust_remote_code}
    kwargs = {key: value for key, value in options.items() if value is not None}
    embedder = ImageEmbedder(get_model(model, local_model_path, **kwargs), batch_size=batch_size)
    table = image_scores(
        images, None, face_selection, pattern=pattern, recursive=recursive, batch_size=batch_size,
        scorer=embedder, progress=progress, detector=detector, face_threshold=face_threshold,
        face_detection_size=face_detection_size,
    )  # fmt: skip
    return embeddings_matrix(table) if as_array else table


def text_embeddings(
    labels: Sequence[str],
    model: str = "oai-base",
    local_model_path: str | os.PathLike | None = None,
    templates: Any = None,
    *,
    device: Any = None,
    precision: Any = None,
    as_array: bool = False,
):
    """L2-normalised text embeddings of labels (averaged over prompt templates).

    They are the label embeddings zero-shot scoring uses, from the same per-model
    cache.

    Parameters
    ----------
    labels : sequence of str
        Texts, used verbatim unless ``templates`` are given.
    model : str, default "oai-base"
        A CLIP-like model alias.
    local_model_path : str or path-like, optional
        Local model folder.
    templates : str or sequence of str, optional
        Prompt templates with ``{}`` for the label, or an ensemble name (``"face"``).
    device : optional
        Force the device.
    precision : {None, "fp32", "bf16", "fp16"}, optional
        Numeric precision of the model, as in :func:`pybridge.image_scores`.
    as_array : bool, default False
        Return the ``(n, d)`` array only.

    Returns
    -------
    pandas.DataFrame or numpy.ndarray
        One row per label (index = label text), columns ``e0 .. e{d-1}``;
        ``attrs["pybridge"]`` holds the provenance.

    Raises
    ------
    InvalidLabelsError
        Empty, duplicate or blank labels.

    Examples
    --------
    >>> text_embeddings(["happy", "sad"]).shape  # doctest: +SKIP
    (2, 512)
    """
    import pandas as pd

    from ..models import get_model
    from .scoring import normalise_templates

    texts = validate_labels(labels)
    options = {"device": device, "precision": precision}
    loaded = get_model(model, local_model_path, **{key: value for key, value in options.items() if value is not None})
    if loaded.kind != "embedding":
        raise InvalidInputError(f"{loaded.spec.alias!r} has no text encoder; use a CLIP-like model")
    matrix = label_embeddings(loaded, texts, normalise_templates(templates)).double().numpy()
    if as_array:
        return matrix
    table = pd.DataFrame(matrix, index=pd.Index(texts, name="label"), columns=[f"e{i}" for i in range(matrix.shape[1])])
    set_provenance(table, {**loaded.provenance(), "templates": None if templates is None else templates})
    return table


@dataclass
class EmbeddingMap:
    """Result of :func:`embedding_map`.

    Attributes
    ----------
    coordinates : pandas.DataFrame
        One row per embedded image (``kind == "image"``) and per label
        anchor (``kind == "text"`` or ``"centroid"``): columns ``x``, ``y``,
        ``label``, ``kind``, ``image``.
    figure : matplotlib.figure.Figure
        The scatter plot.
    method : str
        ``"tsne"`` or ``"pca"``.
    """

    coordinates: Any
    figure: Any
    method: str

    def to_dict(self) -> dict:
        """Coordinates as plain records (for JSON and R).

        Returns
        -------
        dict
            ``{"method": str, "coordinates": list of dict}``; the figure is left out.

        Examples
        --------
        >>> result.to_dict()["method"]  # doctest: +SKIP
        'tsne'
        """
        return {"method": self.method, "coordinates": self.coordinates.to_dict(orient="records")}


def embedding_map(
    images: Any,
    labels: Sequence[Any],
    model: str = "oai-base",
    local_model_path: str | os.PathLike | None = None,
    method: str = "tsne",
    *,
    face_selection: str = "largest",
    anchors: str = "text",
    templates: Any = None,
    perplexity: float | None = None,
    random_state: int = 0,
    path: str | os.PathLike | None = None,
    ax: Any = None,
    detector: Any = DEFAULT_DETECTOR,
    face_threshold: float | None = None,
    precision: Any = None,
):
    """A 2-D map of image embeddings coloured by label, with the label anchors overlaid.

    Parameters
    ----------
    images : images or an :func:`image_embeddings` table
        What to embed (or embeddings already computed; their model must be ``model``).
    labels : sequence
        One label per image (its class), used for colours and anchors.
    model : str, default "oai-base"
        CLIP-like model alias.
    local_model_path : str or path-like, optional
        Local model folder.
    method : {"tsne", "pca"}, default "tsne"
        t-SNE (images and anchors embedded together, cosine metric) or PCA (fitted
        on the images, anchors projected).
    face_selection : str, default "largest"
        Face selection when images are embedded here.
    anchors : {"text", "centroids"}, default "text"
        Overlay the text embeddings of the label names, or the class centroids of
        the image embeddings.
    templates : optional
        Prompt templates for text anchors.
    perplexity : float, optional
        t-SNE perplexity; default ``min(30, (n - 1) / 3)``.
    random_state : int, default 0
        Seed of t-SNE.
    path : str or path-like, optional
        Save the figure there (format from the extension).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes.
    detector : str or face detector, default "mtcnn"
        Face detector when images are embedded here (as in :func:`image_embeddings`).
    face_threshold : float, optional
        Smallest detector confidence kept; the detector's default when omitted.
    precision : {"fp32", "bf16", "fp16"}, optional
        Model precision for the images embedded here and the text anchors (as in
        :func:`image_embeddings`).

    Returns
    -------
    EmbeddingMap

    Raises
    ------
    InvalidInputError
        Labels not one per image, fewer than 3 embedded images, unknown method or
        anchors.

    Examples
    --------
    >>> result = embedding_map(paths, classes, method="pca", path="map.png")  # doctest: +SKIP
    """
    import pandas as pd

    if method not in ("tsne", "pca"):
        raise InvalidInputError(f"method must be 'tsne' or 'pca'; got {method!r}")
    if anchors not in ("text", "centroids"):
        raise InvalidInputError(f"anchors must be 'text' or 'centroids'; got {anchors!r}")
    if isinstance(images, pd.DataFrame):
        table = images
    else:
        table = image_embeddings(
            images,
            model,
            local_model_path,
            face_selection,
            detector=detector,
            face_threshold=face_threshold,
            precision=precision,
        )
    labels = [str(label) for label in labels]
    if len(labels) != len(table):
        raise InvalidInputError(f"labels has {len(labels)} entries for {len(table)} embedded rows; give one per image")
    vectors = embeddings_matrix(table)
    keep = ~np.isnan(vectors).any(axis=1)
    if keep.sum() < 3:
        raise InvalidInputError(f"only {int(keep.sum())} images have an embedding (a face); a map needs at least 3")
    vectors = vectors[keep]
    kept_labels = [label for label, k in zip(labels, keep) if k]
    names = list(dict.fromkeys(kept_labels))
    if anchors == "text":
        anchor_vectors = text_embeddings(names, model, local_model_path, templates, precision=precision, as_array=True)
        if isinstance(images, pd.DataFrame):
            found = model_identity(get_provenance(images))
            from ..models.manager import resolve_spec

            spec = resolve_spec(model, local_model_path)
            check_same_model({"model_id": spec.source, "revision": None}, found, "these embeddings")
    else:
        anchor_vectors = np.stack([vectors[[lab == name for lab in kept_labels]].mean(axis=0) for name in names])
        anchor_vectors /= np.linalg.norm(anchor_vectors, axis=1, keepdims=True)
    coords_images, coords_anchors = _project(vectors, anchor_vectors, method, perplexity, random_state)

    image_names = table["image"].to_numpy()[keep] if "image" in table.columns else np.arange(len(vectors))
    coordinates = pd.concat(
        [
            pd.DataFrame({"x": coords_images[:, 0], "y": coords_images[:, 1], "label": kept_labels, "kind": "image", "image": image_names}),
            pd.DataFrame({"x": coords_anchors[:, 0], "y": coords_anchors[:, 1], "label": names,
                          "kind": "text" if anchors == "text" else "centroid", "image": None}),
        ],
        ignore_index=True,
    )  # fmt: skip
    figure = _draw_map(coordinates, names, method, ax)
    if path is not None:
        figure.savefig(path, dpi=120, bbox_inches="tight")
    return EmbeddingMap(coordinates=coordinates, figure=figure, method=method)


def _project(vectors, anchor_vectors, method, perplexity, random_state):
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2).fit(vectors)
        return pca.transform(vectors), pca.transform(anchor_vectors)
    from sklearn.manifold import TSNE

    together = np.vstack([vectors, anchor_vectors])
    n = len(together)
    perplexity = perplexity if perplexity is not None else max(1.0, min(30.0, (n - 1) / 3))
    coords = TSNE(
        n_components=2, metric="cosine", init="pca", perplexity=perplexity, random_state=random_state
    ).fit_transform(together)
    return coords[: len(vectors)], coords[len(vectors) :]


def _draw_map(coordinates, names, method, ax):
    import matplotlib.pyplot as plt

    if ax is None:
        figure, ax = plt.subplots(figsize=(6, 5))
    else:
        figure = ax.figure
    colours = plt.get_cmap("tab10")
    for k, name in enumerate(names):
        colour = colours(k % 10)
        points = coordinates[(coordinates["label"] == name) & (coordinates["kind"] == "image")]
        ax.scatter(points["x"], points["y"], s=18, alpha=0.7, color=colour, label=name)
        anchor = coordinates[(coordinates["label"] == name) & (coordinates["kind"] != "image")]
        ax.scatter(anchor["x"], anchor["y"], s=160, marker="*", color=colour, edgecolor="black", linewidth=0.8)
        for _, row in anchor.iterrows():
            ax.annotate(name, (row["x"], row["y"]), xytext=(4, 4), textcoords="offset points", fontsize=9)
    ax.set_title(f"image embeddings ({method.upper() if method == 'pca' else 't-SNE'}); stars: label anchors")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="best", fontsize=8, frameon=False)
    return figure
