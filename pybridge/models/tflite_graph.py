"""A TensorFlow Lite float model rebuilt in torch from its flatbuffer (no TensorFlow, no LiteRT).

A ``.tflite`` file is a flatbuffer holding one graph: tensors (shapes, types, constant
data) and the operators between them, in execution order. :func:`read_tflite_model`
reads it with the ``tflite`` package (the schema's generated Python readers, pure
Python) and replays the graph with torch operations, so the file's weights run exactly
as LiteRT runs them, up to float rounding:

* constant float16 weights behind ``DEQUANTIZE`` operators are widened to float32 once,
  at load time, as LiteRT does;
* TensorFlow Lite is channels-last (NHWC): 4-D activations are kept as torch's
  ``(n, c, h, w)`` in channels-last memory, kernels are transposed to torch's layout,
  and axis arguments (``PAD``, ``CONCATENATION``, ``RESHAPE``) are mapped;
* "same" padding is TensorFlow's (the odd pixel at the end, :mod:`..tf_padding`),
  computed from the file's static shapes;
* fused activations (``NONE``, ``RELU``, ``RELU6``) follow each operator that has one.

Supported operators: those of the float image models this project reads (MediaPipe's
BlazeFace): ``CONV_2D``, ``DEPTHWISE_CONV_2D``, ``ADD``, ``RELU``, ``RELU6``,
``PRELU``, ``LOGISTIC``, ``MAX_POOL_2D``, ``AVERAGE_POOL_2D``, ``PAD``,
``RESIZE_BILINEAR``, ``RESHAPE``, ``CONCATENATION`` and ``DEQUANTIZE`` of constants.
Any other operator, or a quantised (int8) tensor, fails at load time with
:class:`~pybridge.errors.ModelLoadError` naming it.

Examples
--------
>>> network = read_tflite_model("face_detection_full_range.tflite")  # doctest: +SKIP
>>> network.input_shape, network.output_names  # doctest: +SKIP
((192, 192, 3), ('reshaped_regressor_face_4', 'reshaped_classifier_face_4'))
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInputError, MissingDependencyError, ModelLoadError
from .tf_padding import same_padding

__all__ = ["TFLITE_INSTALL_HINT", "TfliteNetwork", "read_tflite_model"]

#: How to install the flatbuffer reader.
TFLITE_INSTALL_HINT = "pip install 'tflite>=2.18'"

# numpy types of the TensorType enum values this reader accepts
_NUMPY_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 4: np.int64}
# fused activations (ActivationFunctionType)
_FUSED: dict[int, Callable[[torch.Tensor], torch.Tensor]] = {
    0: lambda x: x,
    1: F.relu,
    3: lambda x: F.hardtanh(x, 0.0, 6.0),
}
# TensorFlow Lite's channels-last axis -> torch's channels-first axis, for 4-D tensors
_NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def _tflite_module() -> Any:
    try:
        import tflite
    except ImportError as err:
        raise MissingDependencyError(
            f"reading a TensorFlow Lite model needs the flatbuffer reader 'tflite': {TFLITE_INSTALL_HINT}"
        ) from err
    return tflite


class _Step(nn.Module):
    """One operator: reads the tensors ``inputs`` (ids in the file), writes ``output``.

    ``relu_after`` is a following RELU folded into this step (applied in place on its
    fresh result); ``add_into`` is, for an ADD, the operand whose memory the sum may
    reuse (no other step reads it), or -1.
    """

    def __init__(self, kind: str, inputs: list[int], output: int) -> None:
        super().__init__()
        self.kind, self.inputs, self.output = kind, inputs, output
        self.relu_after = False
        self.add_into = -1
        # a RESHAPE returns a view of its input; every other operator a new tensor
        self.fresh = kind != "RESHAPE"

    def run(self, *tensors: torch.Tensor) -> torch.Tensor:
        out = self(*tensors)
        return out.relu_() if self.relu_after else out

    def extra_repr(self) -> str:
        return f"{self.kind}: {self.inputs} -> {self.output}" + (" + RELU" if self.relu_after else "")


class _Convolution(_Step):
    """CONV_2D or DEPTHWISE_CONV_2D with TensorFlow's padding and a fused activation."""

    weight: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, kind: str, inputs: list[int], output: int, weight: np.ndarray, bias: np.ndarray | None,
                 stride: tuple[int, int], dilation: tuple[int, int], padding: tuple[int, int, int, int],
                 groups: int, activation: Callable[[torch.Tensor], torch.Tensor]) -> None:  # fmt: skip
        super().__init__(kind, inputs, output)
        # copies: the constants may be read-only views of the file's bytes
        self.register_buffer("weight", torch.tensor(np.asarray(weight, np.float32)).contiguous())
        self.register_buffer("bias", None if bias is None else torch.tensor(np.asarray(bias, np.float32)))
        self.stride, self.dilation, self.groups, self.activation = stride, dilation, groups, activation
        top, bottom, left, right = padding
        # symmetric padding is the convolution's own; TensorFlow's uneven "same" is padded first
        self.symmetric = (top, left) if (top, left) == (bottom, right) else (0, 0)
        self.pre_pad = None if (top, left) == (bottom, right) else (left, right, top, bottom)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_pad is not None:
            x = F.pad(x, self.pre_pad)
        x = F.conv2d(x, self.weight, self.bias, self.stride, self.symmetric, self.dilation, self.groups)
        return self.activation(x)


class _Function(_Step):
    """An operator without weights: a torch function of its input tensors."""

    def __init__(self, kind: str, inputs: list[int], output: int, function: Callable[..., torch.Tensor]) -> None:
        super().__init__(kind, inputs, output)
        self.function = function

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self.function(*tensors)


class _Add(_Step):
    """ADD of two tensors of one shape, into one of them where :func:`_fold_in_place` allows."""

    def __init__(self, kind: str, inputs: list[int], output: int,
                 activation: Callable[[torch.Tensor], torch.Tensor]) -> None:  # fmt: skip
        super().__init__(kind, inputs, output)
        self.activation = activation

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if self.add_into == 0:
            return self.activation(a.add_(b))
        if self.add_into == 1:
            return self.activation(b.add_(a))
        return self.activation(a + b)


class _Prelu(_Step):
    """PRELU with one constant slope per channel."""

    alpha: torch.Tensor

    def __init__(self, kind: str, inputs: list[int], output: int, alpha: np.ndarray) -> None:
        super().__init__(kind, inputs, output)
        self.register_buffer("alpha", torch.tensor(np.asarray(alpha, np.float32).ravel()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.prelu(x, self.alpha)


class TfliteNetwork(nn.Module):
    """A TensorFlow Lite graph replayed with torch operations.

    Build it with :func:`read_tflite_model`. It takes the input as torch's
    ``(n, c, h, w)`` float tensor (any batch size; the file's is 1) and returns the
    graph's outputs in the file's order and layout (channels-last for 4-D outputs).

    Attributes
    ----------
    input_shape : tuple of int
        ``(height, width, channels)`` the file was built for.
    output_names : tuple of str
        The output tensors' names in the file, in the order returned.
    """

    def __init__(self, steps: list[_Step], input_id: int, input_shape: tuple[int, ...], outputs: list[int],
                 output_names: tuple[str, ...]) -> None:  # fmt: skip
        super().__init__()
        plan = _fold_in_place(steps, outputs)
        self.steps = nn.ModuleList(plan)  # registered, so the weights move and cast with the module
        self._plan: list[_Step] = plan
        self.input_id, self.input_shape = input_id, input_shape
        self.outputs, self.output_names = outputs, output_names
        last_read = {index: position for position, step in enumerate(plan) for index in step.inputs}
        self._finished = [
            [index for index in step.inputs if last_read[index] == position and index not in outputs]
            for position, step in enumerate(plan)
        ]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if tuple(x.shape[1:]) != (self.input_shape[2], *self.input_shape[:2]):
            raise InvalidInputError(f"the network takes (n, {self.input_shape[2]}, {self.input_shape[0]}, "
                                    f"{self.input_shape[1]}) input; got {tuple(x.shape)}")  # fmt: skip
        # a fresh channels-last copy with canonical strides: oneDNN takes a slow path for
        # others (a permuted batch of one passes channels-last checks with odd strides)
        x = torch.empty_like(x, memory_format=torch.channels_last).copy_(x)
        values: dict[int, torch.Tensor] = {self.input_id: x}
        for step, finished in zip(self._plan, self._finished):
            values[step.output] = step.run(*[values[index] for index in step.inputs])
            for index in finished:  # intermediate results no later step reads: free them early
                del values[index]
        return tuple(_to_tflite_layout(values[index]) for index in self.outputs)


def _fold_in_place(steps: list[_Step], outputs: list[int]) -> list[_Step]:
    """Fold each RELU into the step before it, and let each ADD reuse an operand's memory.

    Both only where no other step (and no graph output) reads the tensor overwritten,
    and that tensor is a step's own new result; the arithmetic is unchanged. On
    BlazeFace's small maps this halves the time, most of which is spent allocating.
    """
    readers = Counter(index for step in steps for index in step.inputs)
    readers.update(outputs)
    producer: dict[int, _Step] = {}
    kept: list[_Step] = []
    for step in steps:
        if step.kind == "RELU":
            source = producer.get(step.inputs[0])
            if source is not None and source.fresh and readers[step.inputs[0]] == 1:
                source.relu_after, source.output = True, step.output
                producer[step.output] = source
                continue
        if step.kind == "ADD":
            owned = [
                position for position, index in enumerate(step.inputs)
                if index in producer and producer[index].fresh and readers[index] == 1
            ]  # fmt: skip
            step.add_into = owned[0] if owned else -1
        producer[step.output] = step
        kept.append(step)
    return kept


def _to_tflite_layout(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1) if x.dim() == 4 else x


class _GraphReader:
    """Turns the flatbuffer's operators into :class:`_Step` modules."""

    def __init__(self, tflite: Any, data: bytes, path: Path) -> None:
        self.tflite, self.data, self.path = tflite, data, path
        try:
            self.model = tflite.Model.GetRootAsModel(data, 0)
            if self.model.SubgraphsLength() != 1:
                raise ValueError(f"{self.model.SubgraphsLength()} subgraphs; one is supported")
            self.graph = self.model.Subgraphs(0)
        except Exception as err:  # not a flatbuffer, or another schema
            raise ModelLoadError(f"{path} is not a TensorFlow Lite model this reader can read: {err}") from err
        names = {value: name for name, value in vars(tflite.BuiltinOperator).items() if not name.startswith("_")}
        self.op_names = []
        for index in range(self.model.OperatorCodesLength()):
            code = self.model.OperatorCodes(index)
            # files from before schema 3a keep the code in the deprecated 8-bit field
            self.op_names.append(names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM"))
        self.constants: dict[int, np.ndarray] = {}

    # -- tensors

    def shape(self, index: int) -> tuple[int, ...]:
        tensor = self.graph.Tensors(index)
        return tuple(int(v) for v in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()

    def name(self, index: int) -> str:
        return self.graph.Tensors(index).Name().decode()

    def constant(self, index: int) -> np.ndarray | None:
        """The tensor's data if it is a constant (float16 widened by a DEQUANTIZE already), else None."""
        if index in self.constants:
            return self.constants[index]
        tensor = self.graph.Tensors(index)
        buffer = self.model.Buffers(tensor.Buffer())
        raw: Any = buffer.DataAsNumpy() if buffer.DataLength() else None
        if raw is None and hasattr(buffer, "Offset") and buffer.Offset() > 1:  # data stored after the flatbuffer
            raw = np.frombuffer(self.data, np.uint8, buffer.Size(), buffer.Offset())
        if raw is None:
            return None
        if tensor.Type() not in _NUMPY_TYPES:
            raise ModelLoadError(f"{self.path}: tensor {self.name(index)!r} has TensorType {tensor.Type()}, which "
                                 "this reader does not support (float32, float16 and integer constants only)")  # fmt: skip
        value = np.frombuffer(np.asarray(raw).tobytes(), _NUMPY_TYPES[tensor.Type()]).reshape(self.shape(index))
        self.constants[index] = value
        return value

    def options(self, op: Any, kind: str) -> Any:
        table = op.BuiltinOptions()
        options = getattr(self.tflite, kind)()
        options.Init(table.Bytes, table.Pos)
        return options

    # -- operators

    def read(self) -> TfliteNetwork:
        if self.graph.InputsLength() != 1:
            raise ModelLoadError(f"{self.path}: {self.graph.InputsLength()} inputs; one image input is supported")
        input_id = int(self.graph.Inputs(0))
        input_shape = self.shape(input_id)
        if len(input_shape) != 4 or self.graph.Tensors(input_id).Type() != 0:
            raise ModelLoadError(f"{self.path}: the input is not a float32 (n, h, w, c) image: {input_shape}")
        steps = []
        for position in range(self.graph.OperatorsLength()):
            op = self.graph.Operators(position)
            kind = self.op_names[op.OpcodeIndex()]
            inputs = [int(op.Inputs(i)) for i in range(op.InputsLength())]
            output = int(op.Outputs(0))
            build = getattr(self, f"_{kind.lower()}", None)
            if build is None:
                raise ModelLoadError(f"{self.path}: operator {kind} (at {position}) is not supported by pybridge's "
                                     "TensorFlow Lite reader")  # fmt: skip
            step = build(op, kind, inputs, output)
            if step is not None:
                steps.append(step)
        outputs = [int(self.graph.Outputs(i)) for i in range(self.graph.OutputsLength())]
        # the model's weights are constants: torch buffers, moved and cast with the module
        return TfliteNetwork(steps, input_id, input_shape[1:], outputs, tuple(self.name(i) for i in outputs))

    def _dequantize(self, op: Any, kind: str, inputs: list[int], output: int) -> None:
        value = self.constant(inputs[0])
        if value is None or value.dtype != np.float16:
            raise ModelLoadError(f"{self.path}: DEQUANTIZE of {self.name(inputs[0])!r} is not a float16 constant; "
                                 "quantised (int8) models are not supported")  # fmt: skip
        self.constants[output] = value.astype(np.float32)
        return None

    def _weights(self, inputs: list[int]) -> tuple[np.ndarray, np.ndarray | None]:
        weight = self.constant(inputs[1])
        bias = self.constant(inputs[2]) if len(inputs) > 2 and inputs[2] >= 0 else None
        if weight is None:
            raise ModelLoadError(f"{self.path}: the kernel {self.name(inputs[1])!r} is not a constant")
        return weight, bias

    def _padding(self, same: bool, size: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int],
                 dilation: tuple[int, int]) -> tuple[int, int, int, int]:  # fmt: skip
        if not same:
            return (0, 0, 0, 0)
        top, bottom = same_padding(size[1], kernel[0], stride[0], dilation[0])
        left, right = same_padding(size[2], kernel[1], stride[1], dilation[1])
        return (top, bottom, left, right)

    def _fused(self, options: Any, kind: str) -> Callable[[torch.Tensor], torch.Tensor]:
        code = options.FusedActivationFunction()
        if code not in _FUSED:
            raise ModelLoadError(f"{self.path}: {kind} has fused activation {code}, which is not supported")
        return _FUSED[code]

    def _conv_2d(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        options = self.options(op, "Conv2DOptions")
        weight, bias = self._weights(inputs)  # (out, kh, kw, in)
        stride, dilation = (
            (options.StrideH(), options.StrideW()),
            (options.DilationHFactor(), options.DilationWFactor()),
        )
        same = options.Padding() == self.tflite.Padding.SAME
        padding = self._padding(same, self.shape(inputs[0]), weight.shape[1:3], stride, dilation)
        groups = self.shape(inputs[0])[3] // weight.shape[3]
        return _Convolution(kind, inputs[:1], output, weight.transpose(0, 3, 1, 2), bias, stride, dilation,
                            padding, groups, self._fused(options, kind))  # fmt: skip

    def _depthwise_conv_2d(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        options = self.options(op, "DepthwiseConv2DOptions")
        weight, bias = self._weights(inputs)  # (1, kh, kw, in * multiplier), channel-major like torch's groups
        stride, dilation = (
            (options.StrideH(), options.StrideW()),
            (options.DilationHFactor(), options.DilationWFactor()),
        )
        same = options.Padding() == self.tflite.Padding.SAME
        padding = self._padding(same, self.shape(inputs[0]), weight.shape[1:3], stride, dilation)
        return _Convolution(kind, inputs[:1], output, weight[0].transpose(2, 0, 1)[:, np.newaxis], bias, stride,
                            dilation, padding, self.shape(inputs[0])[3], self._fused(options, kind))  # fmt: skip

    def _activations_only(self, inputs: list[int], kind: str) -> None:
        constant = [self.name(i) for i in inputs if self.constant(i) is not None]
        if constant:
            raise ModelLoadError(f"{self.path}: {kind} with constant operands {constant} is not supported")

    def _add(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        self._activations_only(inputs, kind)
        if self.shape(inputs[0]) != self.shape(inputs[1]):
            raise ModelLoadError(f"{self.path}: ADD with broadcasting ({self.shape(inputs[0])} + "
                                 f"{self.shape(inputs[1])}) is not supported")  # fmt: skip
        return _Add(kind, inputs, output, self._fused(self.options(op, "AddOptions"), kind))

    def _relu(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        return _Function(kind, inputs, output, F.relu)

    def _relu6(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        return _Function(kind, inputs, output, _FUSED[3])

    def _logistic(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        return _Function(kind, inputs, output, torch.sigmoid)

    def _prelu(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        alpha = self.constant(inputs[1])
        if alpha is None or alpha.size != self.shape(inputs[0])[-1]:
            raise ModelLoadError(f"{self.path}: PRELU needs one constant slope per channel")
        return _Prelu(kind, inputs[:1], output, alpha)

    def _pool(self, op: Any, kind: str, inputs: list[int], output: int, maximum: bool) -> _Step:
        options = self.options(op, "Pool2DOptions")
        kernel, stride = (options.FilterHeight(), options.FilterWidth()), (options.StrideH(), options.StrideW())
        top, bottom, left, right = self._padding(
            options.Padding() == self.tflite.Padding.SAME, self.shape(inputs[0]), kernel, stride, (1, 1)
        )
        activation = self._fused(options, kind)
        if maximum:
            # TensorFlow leaves padded cells out of the max: -inf padding does the same
            def pool(x: torch.Tensor) -> torch.Tensor:
                return activation(F.max_pool2d(F.pad(x, (left, right, top, bottom), value=-np.inf), kernel, stride))
        else:
            if top or bottom or left or right:
                raise ModelLoadError(f"{self.path}: AVERAGE_POOL_2D with 'same' padding is not supported")

            def pool(x: torch.Tensor) -> torch.Tensor:
                return activation(F.avg_pool2d(x, kernel, stride))

        return _Function(kind, inputs, output, pool)

    def _max_pool_2d(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        return self._pool(op, kind, inputs, output, maximum=True)

    def _average_pool_2d(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        return self._pool(op, kind, inputs, output, maximum=False)

    def _pad(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        paddings = self.constant(inputs[1])
        if paddings is None or paddings.shape != (4, 2) or paddings[0].any():
            raise ModelLoadError(f"{self.path}: PAD needs constant (4, 2) paddings that leave the batch alone")
        (top, bottom), (left, right), (front, back) = paddings[1:].tolist()
        # F.pad lists the last axis first: width, height, then channels of (n, c, h, w)
        pads = (left, right, top, bottom, front, back)
        return _Function(kind, inputs[:1], output, lambda x: F.pad(x, pads))

    def _resize_bilinear(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        options = self.options(op, "ResizeBilinearOptions")
        size = self.constant(inputs[1])
        if size is None:
            raise ModelLoadError(f"{self.path}: RESIZE_BILINEAR needs a constant size")
        height, width = (int(v) for v in size)
        if options.AlignCorners():
            align = True
        elif options.HalfPixelCenters():
            align = False  # torch's align_corners=False samples at half-pixel centres, as TensorFlow does here
        else:
            raise ModelLoadError(f"{self.path}: RESIZE_BILINEAR without half-pixel centres or aligned corners "
                                 "(TensorFlow 1's legacy sampling) is not supported")  # fmt: skip
        return _Function(kind, inputs[:1], output,
                         lambda x: F.interpolate(x, (height, width), mode="bilinear", align_corners=align))  # fmt: skip

    def _reshape(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        target = list(self.shape(output))
        if not target:
            raise ModelLoadError(f"{self.path}: RESHAPE to an unknown shape")
        rest = target[1:]

        def reshape(x: torch.Tensor) -> torch.Tensor:
            # the file's batch (1) becomes the input's batch; 4-D results go back to (n, c, h, w)
            out = _to_tflite_layout(x).reshape(x.shape[0], *rest)
            return out.permute(0, 3, 1, 2) if out.dim() == 4 else out

        return _Function(kind, inputs[:1], output, reshape)

    def _concatenation(self, op: Any, kind: str, inputs: list[int], output: int) -> _Step:
        self._activations_only(inputs, kind)
        options = self.options(op, "ConcatenationOptions")
        rank = len(self.shape(output))
        axis = options.Axis() % rank
        axis = _NHWC_TO_NCHW_AXIS[axis] if rank == 4 else axis
        activation = self._fused(options, kind)
        return _Function(kind, inputs, output, lambda *xs: activation(torch.cat(xs, dim=axis)))


def read_tflite_model(path: str | os.PathLike[str]) -> TfliteNetwork:
    """Rebuild a float TensorFlow Lite model in torch.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.tflite`` file.

    Returns
    -------
    TfliteNetwork
        In evaluation mode on the CPU, without gradients.

    Raises
    ------
    MissingDependencyError
        The ``tflite`` package is not installed (the message gives the pip command).
    ModelLoadError
        The file cannot be read, or uses an operator or tensor type this reader does
        not support (the message names it).

    Examples
    --------
    >>> network = read_tflite_model("face_detection_full_range.tflite")  # doctest: +SKIP
    >>> [tuple(o.shape) for o in network(torch.zeros(1, 3, 192, 192))]  # doctest: +SKIP
    [(1, 2304, 16), (1, 2304, 1)]
    """
    tflite = _tflite_module()
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelLoadError(f"could not read {path}: {err}") from err
    network = _GraphReader(tflite, data, path).read()
    return network.eval().requires_grad_(False)
