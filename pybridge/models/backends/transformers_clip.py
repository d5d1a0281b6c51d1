"""Loading image-text models with Hugging Face transformers.

CLIP and SigLIP load through their own transformers classes; checkpoints with
custom code (EVA-CLIP, Jina CLIP) through ``AutoModel`` with ``trust_remote_code``,
which is only passed when the spec or the user allows it. Each checkpoint is loaded
with its own processor and tokenizer, as its authors document. A checkpoint whose
weights do not cover the architecture (newly initialised or mismatched tensors) is
refused: a model with random layers would score confidently and wrongly.

Examples
--------
>>> from pybridge.models.backends.transformers_clip import load_transformers_model  # doctest: +SKIP
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import MissingDependencyError, ModelLoadError
from ..backend_table import Backend, register_backend
from ..base import EmbeddingModel
from ..cache import resolve_snapshot
from ..registry import ModelSpec

__all__ = ["BACKEND", "TransformersEmbeddingModel", "load_transformers_model"]


def _family(config: dict) -> str | None:
    model_type = str(config.get("model_type", "")).lower()
    if "siglip" in model_type:
        return "siglip"
    if model_type == "clip":
        return "clip"
    if "jina" in model_type:
        return "jina"
    if "eva" in model_type:
        return "eva"
    return "custom" if "auto_map" in config else None


#: This backend's row of the backend table.
BACKEND = register_backend(
    Backend(
        name="transformers",
        loader=f"{__name__}:load_transformers_model",
        config_file="config.json",
        quantizations=("nf4",),
        family=_family,
    )
)

_FALLBACK_CONTEXT = 77
_FALLBACK_LOGIT_SCALE = 100.0  # CLIP's clamp value, used only when a custom model has no logit_scale


class TransformersEmbeddingModel(EmbeddingModel):
    """A transformers image-text model behind the :class:`EmbeddingModel` interface.

    Built by :func:`load_transformers_model`; see there.
    """

    def __init__(self, spec: ModelSpec, module, processor, image_processor, tokenizer, device, dtype, **kwargs) -> None:
        super().__init__(spec, module, device, dtype, **kwargs)
        self.processor = processor
        self.image_processor = image_processor
        self.tokenizer = tokenizer

    def preprocess(self, images: Sequence[Any]):
        return self.image_processor(images=list(images), return_tensors="pt")["pixel_values"]

    def tokenize(self, texts: Sequence[str]) -> dict:
        # SigLIP pools the last position and was trained on max-length padded text;
        # CLIP pools the end-of-text token, so shortest padding gives the same numbers faster.
        padding = "max_length" if self.spec.family == "siglip" else True
        encoder = self.processor if self.processor is not None else self.tokenizer
        inputs = encoder(
            text=list(texts), padding=padding, truncation=True, max_length=self.context_length, return_tensors="pt"
        )
        return {key: value for key, value in inputs.items() if key in ("input_ids", "attention_mask")}

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(list(texts), truncation=False)["input_ids"]]

    def _image_features(self, pixel_values):
        if hasattr(self.module, "get_image_features"):
            return self.module.get_image_features(pixel_values=pixel_values)
        return self.module.encode_image(pixel_values)

    def _text_features(self, text_inputs: dict):
        if hasattr(self.module, "get_text_features"):
            return self.module.get_text_features(**text_inputs)
        return self.module.encode_text(text_inputs["input_ids"])


def load_transformers_model(
    spec: ModelSpec, folder: Path, device, dtype, quantization: str | None, trust_remote_code: bool
) -> TransformersEmbeddingModel:
    """Load a transformers image-text model from a local folder.

    Parameters
    ----------
    spec : ModelSpec
        The model's spec (family decides SigLIP handling).
    folder : pathlib.Path
        Folder with ``config.json``, weights and processor files (a hub snapshot or a
        ``save_pretrained`` folder).
    device : torch.device
    dtype : torch.dtype
    quantization : {None, "nf4"}
        4-bit NF4 through bitsandbytes.
    trust_remote_code : bool
        Allow the checkpoint's own Python code to run.

    Returns
    -------
    TransformersEmbeddingModel

    Raises
    ------
    ModelLoadError
        Custom code without permission, missing or mismatched weights, unreadable
        files, or a checkpoint that is not an image-text model.
    MissingDependencyError
        The tokenizer needs sentencepiece/protobuf, or quantisation needs bitsandbytes.
    """
    import torch
    from transformers import AutoModel

    config = _read_json(folder / "config.json")
    if "auto_map" in config and not trust_remote_code:
        raise ModelLoadError(
            f"{spec.source!r} ships its own Python code (auto_map in config.json). pybridge runs it only when you "
            "allow it: pass trust_remote_code=True if you trust this checkpoint's authors."
        )
    # 4-bit layers compute in float32 on CPU, where half-precision kernels are missing or slow
    compute_dtype = torch.float32 if quantization and device.type == "cpu" else dtype
    load_kwargs: dict[str, Any] = {
        "local_files_only": True,
        "trust_remote_code": bool(trust_remote_code),
        "output_loading_info": True,
        "dtype": compute_dtype,
    }
    if quantization == "nf4":
        load_kwargs.update(_nf4_kwargs(device, compute_dtype))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*bos_token_id.*")
            module, info = AutoModel.from_pretrained(str(folder), **load_kwargs)
    except (OSError, ValueError, KeyError, RuntimeError, AttributeError, TypeError) as err:
        raise ModelLoadError(f"could not load {spec.source!r} from {str(folder)!r}: {err}") from err
    _check_loading_info(spec, info)
    if quantization is None:
        module = module.to(device)
    module.eval()

    processor, image_processor, tokenizer = _load_processing(spec, folder, trust_remote_code)
    logit_scale, logit_bias = _scale_and_bias(module, spec)
    model = TransformersEmbeddingModel(
        spec,
        module,
        processor,
        image_processor,
        tokenizer,
        device,
        compute_dtype,
        logit_scale=logit_scale,
        logit_bias=logit_bias,
        context_length=_context_length(module, tokenizer),
        quantization=quantization,
    )
    model._snapshot_commit = folder.name if folder.parent.name == "snapshots" else None
    return model


# ---------------------------------------------------------------------------- internals


def _read_json(path: Path) -> dict:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{str(path.parent)!r} has no config.json; is it a transformers model folder?") from None
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"{str(path)!r} is not valid JSON: {err}") from err
    if not isinstance(config, dict):
        raise ModelLoadError(
            f"{str(path)!r} holds a JSON {type(config).__name__}, not the object a model configuration is; "
            "download the model again or fix the file"
        )
    return config


def _nf4_kwargs(device, compute_dtype) -> dict:
    from transformers import BitsAndBytesConfig

    kwargs: dict[str, Any] = {
        "quantization_config": BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=compute_dtype
        ),
    }
    if device.type == "cuda":
        kwargs["device_map"] = {"": device.index or 0}
    return kwargs


def _check_loading_info(spec: ModelSpec, info: dict) -> None:
    missing = list(info.get("missing_keys") or [])
    mismatched = list(info.get("mismatched_keys") or [])
    if missing or mismatched:
        details = []
        if missing:
            details.append(f"{len(missing)} tensor(s) missing from the checkpoint (e.g. {sorted(missing)[0]!r})")
        if mismatched:
            details.append(f"{len(mismatched)} tensor(s) with mismatched shapes (e.g. {mismatched[0]!r})")
        raise ModelLoadError(
            f"the weights of {spec.source!r} do not fit its architecture: {'; '.join(details)}. Those layers would "
            "be random; check that the folder holds the complete checkpoint that matches its config.json"
        )


def _load_processing(spec: ModelSpec, folder: Path, trust_remote_code: bool):
    from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer

    common = {"local_files_only": True, "trust_remote_code": bool(trust_remote_code)}
    try:
        if spec.processor_source is not None:
            # checkpoints that ship no image processor (EVA-CLIP) document which one to use
            source = resolve_snapshot(spec.processor_source)
            overrides: dict[str, Any] = {}
            if spec.image_size:
                overrides = {"size": {"shortest_edge": spec.image_size}, "crop_size": spec.image_size}
            image_processor = AutoImageProcessor.from_pretrained(str(source), local_files_only=True, **overrides)
            own_tokenizer = AutoTokenizer.from_pretrained(str(folder), **common)
            return None, image_processor, own_tokenizer
        processor = AutoProcessor.from_pretrained(str(folder), **common)
    except ImportError as err:
        raise MissingDependencyError(
            f"the tokenizer of {spec.source!r} needs an extra package: {err}. "
            "pip install 'pybridge-emotion[siglip]' (sentencepiece, protobuf)"
        ) from err
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:  # AttributeError: malformed JSON
        raise ModelLoadError(
            f"could not load the processor/tokenizer of {spec.source!r} from {str(folder)!r}: {err}"
        ) from err
    image_processor = getattr(processor, "image_processor", None)
    tokenizer = getattr(processor, "tokenizer", None)
    if image_processor is None or tokenizer is None:
        raise ModelLoadError(
            f"{str(folder)!r} has no complete image-text processor (image processor and tokenizer); "
            "save one with processor.save_pretrained(folder)"
        )
    return processor, image_processor, tokenizer


def _scale_and_bias(module, spec: ModelSpec) -> tuple[float, float | None]:
    scale_param = getattr(module, "logit_scale", None)
    if scale_param is None:
        warnings.warn(
            f"{spec.source!r} has no logit_scale; using CLIP's {_FALLBACK_LOGIT_SCALE:g}", UserWarning, stacklevel=3
        )
        logit_scale = _FALLBACK_LOGIT_SCALE
    else:
        logit_scale = float(scale_param.detach().float().exp().item())
    bias_param = getattr(module, "logit_bias", None)
    logit_bias = float(bias_param.detach().float().item()) if bias_param is not None else None
    if spec.family != "siglip":
        logit_bias = None
    return logit_scale, logit_bias


def _context_length(module, tokenizer) -> int:
    config = getattr(module, "config", None)
    text_config = getattr(config, "text_config", None)
    positions = getattr(text_config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        return positions
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 100_000:
        return limit
    return _FALLBACK_CONTEXT
