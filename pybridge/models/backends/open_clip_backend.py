"""Loading image-text models with open_clip (MetaCLIP, Apple DFN, open_clip SigLIP).

Hub checkpoints are first resolved to a cached snapshot folder (see
:mod:`pybridge.models.cache`) and then created with open_clip's ``local-dir:``
schema, which reads ``open_clip_config.json`` (architecture and preprocessing) and
the weights from that folder; open_clip loads state dicts strictly, so mismatched
weights fail instead of staying random.

Examples
--------
>>> from pybridge.models.backends.open_clip_backend import load_open_clip_model  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import MissingDependencyError, ModelLoadError, QuantizationNotSupportedError
from ..backend_table import Backend, register_backend
from ..base import EmbeddingModel
from ..registry import ModelSpec

__all__ = ["BACKEND", "OpenClipEmbeddingModel", "load_open_clip_model"]


def _family(config: dict) -> str:
    # open_clip's SigLIP configurations carry the sigmoid loss's bias
    return "siglip" if "init_logit_bias" in config.get("model_cfg", {}) else "clip"


#: This backend's row of the backend table.
BACKEND = register_backend(
    Backend(
        name="open_clip",
        loader=f"{__name__}:load_open_clip_model",
        hub_prefix="hf-hub:",
        weights_prefix="open_clip_",
        config_file="open_clip_config.json",
        family=_family,
    )
)

_WEIGHT_FILES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_model.bin",
    "model.safetensors",
    "pytorch_model.bin",
)


class OpenClipEmbeddingModel(EmbeddingModel):
    """An open_clip model behind the :class:`EmbeddingModel` interface.

    Built by :func:`load_open_clip_model`; see there.
    """

    def __init__(self, spec: ModelSpec, module, transform, tokenizer, device, dtype, **kwargs) -> None:
        super().__init__(spec, module, device, dtype, **kwargs)
        self.transform = transform
        self.tokenizer = tokenizer

    def preprocess(self, images: Sequence[Any]):
        import torch

        return torch.stack([self.transform(image) for image in images])

    def tokenize(self, texts: Sequence[str]) -> dict:
        return {"text": self.tokenizer(list(texts))}

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        inner = getattr(self.tokenizer, "tokenizer", None)
        if inner is not None and callable(inner):  # HFTokenizer wraps a transformers tokenizer
            return [len(ids) for ids in inner(list(texts), truncation=False)["input_ids"]]
        # SimpleTokenizer adds start- and end-of-text tokens around the BPE tokens
        return [len(self.tokenizer.encode(text)) + 2 for text in texts]

    def _image_features(self, pixel_values):
        return self.module.encode_image(pixel_values)

    def _text_features(self, text_inputs: dict):
        return self.module.encode_text(text_inputs["text"])


def load_open_clip_model(
    spec: ModelSpec, folder: Path, device, dtype, quantization: str | None, trust_remote_code: bool
) -> OpenClipEmbeddingModel:
    """Load an open_clip model from a folder holding ``open_clip_config.json`` and weights.

    Parameters
    ----------
    spec : ModelSpec
    folder : pathlib.Path
        Hub snapshot or local folder.
    device : torch.device
    dtype : torch.dtype
    quantization : None
        open_clip models cannot be quantised here.
    trust_remote_code : bool
        Unused: open_clip runs no checkpoint code.

    Returns
    -------
    OpenClipEmbeddingModel

    Raises
    ------
    MissingDependencyError
        open_clip is not installed.
    QuantizationNotSupportedError
        ``quantization`` was requested.
    ModelLoadError
        No weights, or weights that do not match the configuration.
    """
    if quantization is not None:
        raise QuantizationNotSupportedError(
            f"{spec.alias!r} is an open_clip model and cannot be loaded in 4 bits; use quantization=None "
            "(with dtype='float16' on a GPU to halve its memory)"
        )
    try:
        import open_clip
    except ImportError as err:
        raise MissingDependencyError(
            f"{spec.alias!r} needs open_clip: pip install 'pybridge-emotion[openclip]'"
        ) from err

    if not any((folder / name).is_file() for name in _WEIGHT_FILES):
        raise ModelLoadError(
            f"{str(folder)!r} has an open_clip_config.json but no weights ({', '.join(_WEIGHT_FILES[:3])}, ...)"
        )
    try:
        module, _, transform = open_clip.create_model_and_transforms(f"local-dir:{folder}")
        tokenizer = open_clip.get_tokenizer(f"local-dir:{folder}")
    except (RuntimeError, OSError, ValueError, KeyError) as err:
        raise ModelLoadError(f"could not load open_clip model {spec.source!r} from {str(folder)!r}: {err}") from err
    module = module.to(device=device, dtype=dtype).eval()
    bias = getattr(module, "logit_bias", None)
    tokenizer_length: int | None = getattr(tokenizer, "context_length", None)
    module_length: int = getattr(module, "context_length", 77)
    model = OpenClipEmbeddingModel(
        spec,
        module,
        transform,
        tokenizer,
        device,
        dtype,
        logit_scale=float(module.logit_scale.detach().float().exp().item()),
        logit_bias=float(bias.detach().float().item()) if bias is not None else None,
        context_length=int(tokenizer_length or module_length),
    )
    model._snapshot_commit = folder.name if folder.parent.name == "snapshots" else None
    return model
