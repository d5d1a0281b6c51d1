"""pybridge: facial emotion scoring, emotion time series and their dynamics.

The names below are the stable public interface; the R package calls nothing else.
They are imported lazily, so ``import pybridge`` is fast and does not load torch
until a function that needs it is used.

Examples
--------
>>> import pybridge
>>> sorted(pybridge.__all__)[:3]
['EGA', 'EmotionProbe', 'Embed']
"""

from __future__ import annotations

import importlib
from typing import Any

from . import errors as errors
from . import torch_threads as _fork_guard  # noqa: F401  (registers the fork hook; imports no torch)
from .errors import PyBridgeError as PyBridgeError

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # vision: images, video, embeddings, probes
    "image_scores": "pybridge.vision.image_scoring",
    "image_scores_dir": "pybridge.vision.image_scoring",
    "video_scores": "pybridge.vision.video_scoring",
    "ShortWindowWarning": "pybridge.vision.video",
    "image_embeddings": "pybridge.vision.embeddings",
    "text_embeddings": "pybridge.vision.embeddings",
    "EmotionProbe": "pybridge.vision.probe",
    "embedding_map": "pybridge.vision.embeddings",
    "vad_scores": "pybridge.vision.vad_scoring",
    "fetch_youtube_video": "pybridge.vision.youtube",
    # scores tables and what is computed from them
    "transforemotion_shape": "pybridge.scores_table",
    "map_discrete_to_vad": "pybridge.vad_lexicon",
    "load_vad_lexicon": "pybridge.vad_lexicon",
    # model management
    "list_models": "pybridge.models",
    "register_model": "pybridge.models",
    "remove_model": "pybridge.models",
    "model_info": "pybridge.models",
    "download_model": "pybridge.models",
    "load_model": "pybridge.models",
    "unload_model": "pybridge.models",
    # dynamics
    "dynEGA": "pybridge.dynamics",
    "EGA": "pybridge.dynamics",
    "glla": "pybridge.dynamics",
    "Embed": "pybridge.dynamics",
    "net_loads": "pybridge.dynamics",
    "net_scores": "pybridge.dynamics",
    "tefi": "pybridge.dynamics",
    # damped linear oscillator
    "simulate_dlo": "pybridge.dlo",
    "simulate_video": "pybridge.dlo",
    "estimate_dlo": "pybridge.dlo",
    "dlo_dynamics": "pybridge.dlo.transforemotion",
    # evaluation, scale-out
    "evaluate_emotions": "pybridge.evaluate",
    # the FindingEmo data set
    "download_findingemo_data": "pybridge.findingemo",
    "load_findingemo_annotations": "pybridge.findingemo",
    "prepare_findingemo_evaluation": "pybridge.findingemo",
    "check_findingemo_quality": "pybridge.findingemo",
    "map_to_emo8": "pybridge.findingemo",
    "score_corpus": "pybridge.corpus",
}

__all__ = sorted([*_EXPORTS, "errors", "PyBridgeError", "__version__"])


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pybridge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
