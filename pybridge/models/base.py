"""The two kinds of loaded model, as the scoring code sees them.

``LoadedEmbeddingModel`` (CLIP-like: images and texts into one embedding space) and
``LoadedClassifier`` (fixed classes, e.g. the FER CNN) are protocols: backends are
free in how they build a model as long as they offer these attributes.
:class:`EmbeddingModel` is the shared implementation of the embedding protocol
(batching, normalisation, inference mode, autocast, truncation warnings,
provenance); a backend only supplies preprocessing, tokenisation and the two
feature functions.

Examples
--------
>>> from pybridge.models.base import LoadedClassifier
>>> LoadedClassifier.__name__
'LoadedClassifier'
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Sequence
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .cpu_matmul import cpu_matmul_library, onednn_matmul
from .device import dtype_name, precision_name
from .registry import ModelSpec

__all__ = ["EmbeddingModel", "LoadedClassifier", "LoadedEmbeddingModel", "package_versions"]


@runtime_checkable
class LoadedEmbeddingModel(Protocol):
    """A loaded image-text model that embeds both into one L2-normalised space.

    What the vision stage calls: ``preprocess`` and ``encode_pixels`` on face crops
    (:func:`pybridge.vision.scoring.preprocess_faces` and
    ``encode_pixels_in_batches``), ``encode_texts`` for the label embeddings,
    ``logit_scale`` / ``logit_bias`` / ``probability`` to turn cosines into scores,
    ``face_crop`` for the crop, ``provenance`` for the table.
    """

    spec: ModelSpec
    kind: str  # "embedding"
    face_crop: str  # "padded" or "tight"
    probability: str  # "softmax" (CLIP) or "sigmoid" (SigLIP)
    logit_scale: float
    logit_bias: float | None
    context_length: int

    def preprocess(self, images: Sequence[Any]): ...

    def encode_pixels(self, pixel_values): ...

    def encode_texts(self, texts: Sequence[str]): ...

    def provenance(self) -> dict: ...


@runtime_checkable
class LoadedClassifier(Protocol):
    """A loaded fixed-class face classifier (e.g. ``cnn-fer``).

    What the vision stage calls: ``predict_proba`` on face crops (columns in
    ``classes`` order), ``face_crop`` for the crop, ``provenance`` for the table.
    """

    spec: ModelSpec
    kind: str  # "classifier"
    classes: list[str]
    face_crop: str

    def predict_proba(self, faces: list[np.ndarray]) -> np.ndarray: ...

    def provenance(self) -> dict: ...


class EmbeddingModel:
    """Shared implementation of :class:`LoadedEmbeddingModel`.

    Subclasses implement :meth:`preprocess`, :meth:`tokenize`, :meth:`token_counts`,
    :meth:`_image_features` and :meth:`_text_features`.

    Parameters
    ----------
    spec : ModelSpec
        What was loaded.
    module : torch.nn.Module
        The network, in eval mode, on ``device``.
    device : torch.device
    dtype : torch.dtype
        Weight dtype; for 4-bit models the compute dtype of the quantised layers.
    logit_scale : float
        CLIP's temperature, already exponentiated.
    logit_bias : float, optional
        SigLIP's bias; ``None`` for CLIP models.
    context_length : int
        Maximum text tokens.
    quantization : str, optional
        ``"nf4"`` when loaded in 4 bits.
    """

    kind = "embedding"
    # set by the loaders when the weights came from a hub snapshot folder
    _snapshot_commit: str | None

    def __init__(
        self,
        spec: ModelSpec,
        module,
        device,
        dtype,
        *,
        logit_scale: float,
        logit_bias: float | None,
        context_length: int,
        quantization: str | None = None,
    ) -> None:
        self.spec = spec
        self.module = module
        self.device = device
        self.dtype = dtype
        self.logit_scale = float(logit_scale)
        self.logit_bias = None if logit_bias is None else float(logit_bias)
        self.context_length = int(context_length)
        self.quantization = quantization
        self.probability = "sigmoid" if spec.family == "siglip" or logit_bias is not None else "softmax"
        self.face_crop = spec.face_crop

    # -- backend hooks -------------------------------------------------------

    def preprocess(self, images: Sequence[Any]):
        """Turn PIL images into the model's pixel tensor ``(n, 3, H, W)`` on the CPU."""
        raise NotImplementedError

    def tokenize(self, texts: Sequence[str]) -> dict:
        """Turn texts into the model's text inputs (a dict of CPU tensors)."""
        raise NotImplementedError

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Number of tokens of each text before truncation (special tokens included)."""
        raise NotImplementedError

    def _image_features(self, pixel_values):
        raise NotImplementedError

    def _text_features(self, text_inputs: dict):
        raise NotImplementedError

    # -- shared behaviour ----------------------------------------------------

    def encode_pixels(self, pixel_values):
        """Embed preprocessed pixels.

        Parameters
        ----------
        pixel_values : torch.Tensor
            ``(n, 3, H, W)`` as returned by :meth:`preprocess`.

        Returns
        -------
        torch.Tensor
            ``(n, d)`` float32, L2-normalised, on the CPU.
        """
        import torch

        with torch.inference_mode(), self._compute_context():
            pixels = pixel_values.to(self.device, dtype=self.dtype, non_blocking=True)
            features = _as_tensor(self._image_features(pixels))
        return _normalise(features)

    def encode_images(self, images: Sequence[Any], batch_size: int = 16):
        """Embed images in batches.

        Parameters
        ----------
        images : sequence of PIL.Image.Image
            RGB images.
        batch_size : int, default 16
            Images per forward pass.

        Returns
        -------
        torch.Tensor
            ``(n, d)`` float32, L2-normalised, on the CPU.
        """
        import torch

        if len(images) == 0:
            return torch.empty((0, 0))
        chunks = [
            self.encode_pixels(self.preprocess(images[i : i + batch_size])) for i in range(0, len(images), batch_size)
        ]
        return torch.cat(chunks)

    def encode_texts(self, texts: Sequence[str]):
        """Embed texts; texts longer than the model's context are truncated with a warning.

        Parameters
        ----------
        texts : sequence of str

        Returns
        -------
        torch.Tensor
            ``(n, d)`` float32, L2-normalised, on the CPU.
        """
        import torch

        texts = list(texts)
        too_long = [text for text, count in zip(texts, self.token_counts(texts)) if count > self.context_length]
        if too_long:
            warnings.warn(
                f"{len(too_long)} text(s) exceed {self.spec.alias}'s context of {self.context_length} tokens and "
                f"were truncated (first: {too_long[0][:60]!r}); shorten them to keep every word",
                UserWarning,
                stacklevel=3,
            )
        inputs = {key: value.to(self.device) for key, value in self.tokenize(texts).items()}
        with torch.inference_mode(), self._compute_context():
            features = _as_tensor(self._text_features(inputs))
        return _normalise(features)

    def provenance(self) -> dict:
        """Describe what computed the scores.

        Returns
        -------
        dict
            alias, model id, revision, backend, family, device, dtype, precision
            (``"fp32"``, ``"bf16"``, ``"fp16"``), the library of float32 CPU matrix
            products (``"onednn"`` or ``"blas"``; None on a GPU), quantization,
            probability form and package versions.
        """
        return {
            "model": self.spec.alias,
            "model_id": self.spec.source,
            "revision": self.resolved_revision(),
            "backend": self.spec.backend,
            "family": self.spec.family,
            "device": str(self.device),
            "dtype": dtype_name(self.dtype),
            "precision": precision_name(self.dtype),
            "cpu_matmul": cpu_matmul_library() if self.device.type == "cpu" else None,
            "quantization": self.quantization,
            "probability": self.probability,
            "logit_scale": self.logit_scale,
            "logit_bias": self.logit_bias,
            "packages": package_versions(),
        }

    def resolved_revision(self) -> str | None:
        """The commit of the cached snapshot that was loaded, or the spec's revision."""
        return getattr(self, "_snapshot_commit", None) or self.spec.revision

    def _compute_context(self):
        # half precision on a GPU runs under autocast; float32 on a CPU multiplies its
        # matrices with oneDNN (see pybridge.models.cpu_matmul: same float32, faster)
        import torch

        if self.device.type == "cuda" and self.dtype in (torch.float16, torch.bfloat16):
            return torch.autocast("cuda", dtype=self.dtype)
        if self.device.type == "cpu" and self.dtype == torch.float32:
            return onednn_matmul()
        return contextlib.nullcontext()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(alias={self.spec.alias!r}, source={self.spec.source!r}, "
            f"device={str(self.device)!r}, dtype={dtype_name(self.dtype)!r})"
        )


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers (read once per process).

    Returns
    -------
    dict of str to str
        Only installed packages are listed.

    Examples
    --------
    >>> "torch" in package_versions()
    True
    """
    return dict(_installed_versions())


@functools.lru_cache(maxsize=1)
def _installed_versions() -> tuple[tuple[str, str], ...]:
    # reading package metadata costs milliseconds per package: far too slow for every call
    # pybridge's own version comes from the module: its distribution is called
    # pybridge-emotion, and a distribution named "pybridge" would be another project
    from pybridge import __version__

    versions = [("pybridge", __version__)]
    for name in ("torch", "transformers", "open_clip_torch", "opencv-python-headless", "pillow", "numpy"):
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return tuple(versions)


def _as_tensor(output):
    import torch

    if isinstance(output, torch.Tensor):
        return output
    # transformers >= 5 returns model outputs whose pooler_output is the projected embedding
    for name in ("pooler_output", "image_embeds", "text_embeds"):
        value = getattr(output, name, None)
        if isinstance(value, torch.Tensor):
            return value
    if isinstance(output, np.ndarray):
        return torch.from_numpy(output)
    raise TypeError(f"cannot read features from a {type(output).__name__}")


def _normalise(features):
    import torch

    features = features.float()
    return torch.nn.functional.normalize(features, dim=-1).cpu()
