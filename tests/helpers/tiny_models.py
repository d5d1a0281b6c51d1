"""Tiny random-weight image-text models written to folders, for offline tests.

Every builder saves a complete model folder (weights, config, processor and a
tokenizer written here, never downloaded) that pybridge loads through the same
code path as a real checkpoint. :func:`install_in_hf_cache` places such a folder
in a Hugging Face cache as ``<org>/<name>`` so hub-id code paths run offline too.
"""

from __future__ import annotations

import json
import shutil
import string
from pathlib import Path

import numpy as np

#: Words the hand-written BPE vocabulary merges into whole tokens.
VOCAB_WORDS = (
    "happy", "sad", "angry", "fear", "fearful", "surprise", "surprised", "neutral", "disgust", "contempt",
    "a", "photo", "of", "face", "person", "the", "smiling", "frowning",
)  # fmt: skip
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


# ---------------------------------------------------------------------------- tokenizers


def write_clip_tokenizer_files(folder: Path, words: tuple[str, ...] = VOCAB_WORDS) -> tuple[Path, Path]:
    """Write a CLIP BPE vocabulary (``vocab.json``, ``merges.txt``) that covers any lower-case text.

    Single characters (with and without the end-of-word mark) make every word
    encodable; merges build the given ``words`` into single tokens.
    """
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(string.ascii_lowercase + string.digits + ".,!?'-")
    vocab = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    known = set(vocab)
    merges: list[tuple[str, str]] = []
    for word in words:
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            pair = (parts[0], parts[1])
            if pair not in merges:
                merges.append(pair)
            merged = parts[0] + parts[1]
            if merged not in known:
                vocab.append(merged)
                known.add(merged)
            parts = [merged, *parts[2:]]
    vocab_file, merges_file = folder / "vocab.json", folder / "merges.txt"
    vocab_file.write_text(json.dumps({token: i for i, token in enumerate(vocab)}), encoding="utf-8")
    merges_file.write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8")
    return vocab_file, merges_file


def clip_processor(folder: Path, image_size: int = 32, crop: bool = True):
    """A CLIPProcessor with the hand-written tokenizer and CLIP's normalisation."""
    from transformers import CLIPImageProcessor, CLIPProcessor, CLIPTokenizer

    vocab_file, merges_file = write_clip_tokenizer_files(folder / "_tokenizer_src")
    tokenizer = CLIPTokenizer(str(vocab_file), str(merges_file), model_max_length=77)
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}, do_center_crop=crop
    )
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
    shutil.rmtree(folder / "_tokenizer_src")
    return processor


# ---------------------------------------------------------------------------- transformers CLIP


def tiny_clip_config(hidden: int = 32, intermediate: int = 64, projection: int = 16, image_size: int = 32,
                     patch: int = 8, context: int = 77, vocab_size: int = 200):  # fmt: skip
    """A CLIPConfig for a two-layer model of the given widths."""
    from transformers import CLIPConfig

    eos, bos = 1, 0  # ids of <|endoftext|> and <|startoftext|> in the hand-written vocabulary
    return CLIPConfig(
        text_config=dict(
            vocab_size=vocab_size, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=2,
            num_attention_heads=2, max_position_embeddings=context, bos_token_id=bos, eos_token_id=eos,
            pad_token_id=eos, projection_dim=projection,
        ),
        vision_config=dict(
            image_size=image_size, patch_size=patch, hidden_size=hidden, intermediate_size=intermediate,
            num_hidden_layers=2, num_attention_heads=2, projection_dim=projection,
        ),
        projection_dim=projection,
    )  # fmt: skip


def build_tiny_clip(folder: Path, *, seed: int = 0, logit_scale: float = 2.6592, **config_kwargs) -> Path:
    """Save a tiny random transformers CLIP (about 0.1 M parameters) with its processor to ``folder``."""
    import torch
    from transformers import CLIPModel

    torch.manual_seed(seed)
    model = CLIPModel(tiny_clip_config(**config_kwargs)).eval()
    with torch.no_grad():
        model.logit_scale.fill_(logit_scale)
    model.save_pretrained(folder)
    clip_processor(folder, image_size=model.config.vision_config.image_size).save_pretrained(folder)
    return folder


def build_oai_base_architecture(folder: Path, *, seed: int = 0, logit_scale: float | None = None) -> Path:
    """Save a random CLIP with openai/clip-vit-base-patch32's exact architecture and preprocessing.

    ``CLIPConfig()`` defaults are ViT-B/32 (224 px, patch 32, widths 768/512,
    projection 512, 12 layers each), so compute equals the real oai-base model.
    ``logit_scale`` (log of the temperature) replaces the untrained 2.66; the trained
    oai-base has 4.6052 (a temperature of 100), which gives peaked probabilities.
    """
    import torch
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(seed)
    config = CLIPConfig()
    config.text_config.bos_token_id, config.text_config.eos_token_id, config.text_config.pad_token_id = 0, 1, 1
    model = CLIPModel(config).eval()
    if logit_scale is not None:
        with torch.no_grad():
            model.logit_scale.fill_(logit_scale)
    model.save_pretrained(folder)
    clip_processor(folder, image_size=224).save_pretrained(folder)
    return folder


def build_quantisable_clip(folder: Path, *, seed: int = 0) -> Path:
    """A tiny CLIP whose linear layers fit bitsandbytes 4-bit kernels (widths multiples of 64)."""
    return build_tiny_clip(folder, seed=seed, hidden=64, intermediate=128, projection=64)


# ---------------------------------------------------------------------------- SigLIP


def build_tiny_siglip(folder: Path, *, seed: int = 0, logit_scale: float = 2.3, logit_bias: float = -1.0) -> Path:
    """Save a tiny random SigLIP with a sentencepiece tokenizer trained here."""
    import sentencepiece as spm
    import torch
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor, SiglipTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    work = folder / "_spm"
    work.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = [" ".join(rng.choice(VOCAB_WORDS, size=8)) for _ in range(400)]
    (work / "corpus.txt").write_text("\n".join(lines), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(work / "corpus.txt"), model_prefix=str(work / "spm"), vocab_size=64, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False, normalization_rule_name="identity",
        minloglevel=2,
    )  # fmt: skip
    tokenizer = SiglipTokenizer(str(work / "spm.model"), model_max_length=64)
    processor = SiglipProcessor(
        image_processor=SiglipImageProcessor(size={"height": 32, "width": 32}), tokenizer=tokenizer
    )
    torch.manual_seed(seed)
    config = SiglipConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2, max_position_embeddings=64, bos_token_id=None, eos_token_id=1, pad_token_id=1,
        ),
        vision_config=dict(
            image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2,
        ),
    )  # fmt: skip
    model = SiglipModel(config).eval()
    with torch.no_grad():
        model.logit_scale.fill_(logit_scale)
        model.logit_bias.fill_(logit_bias)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    shutil.rmtree(work)
    return folder


# ---------------------------------------------------------------------------- open_clip


OPEN_CLIP_TINY_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


def build_tiny_open_clip(folder: Path, *, seed: int = 0) -> Path:
    """Save a tiny random open_clip model as ``open_clip_config.json`` + safetensors weights."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = open_clip.CLIP(**OPEN_CLIP_TINY_CFG).eval()
    config = {
        "model_cfg": OPEN_CLIP_TINY_CFG,
        "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]},
    }
    (folder / "open_clip_config.json").write_text(json.dumps(config), encoding="utf-8")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "open_clip_model.safetensors"))
    return folder


# ---------------------------------------------------------------------------- custom code

_CONFIG_CODE = """
from transformers import PretrainedConfig


class TinyRemoteConfig(PretrainedConfig):
    model_type = "tiny_remote_clip"

    def __init__(self, vocab_size=200, embed_dim=16, patch=8, image_size=32, **kwargs):
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.patch = patch
        self.image_size = image_size
        super().__init__(**kwargs)
"""

_MODEL_CODE = '''
import math

import torch
from torch import nn
from transformers import PreTrainedModel

from .configuration_tiny_remote import TinyRemoteConfig


class TinyRemoteModel(PreTrainedModel):
    """A deliberately simple image-text model: patch projection + mean, token embedding + mean."""

    config_class = TinyRemoteConfig
    base_model_prefix = "tiny_remote"

    def __init__(self, config):
        super().__init__(config)
        self.patch_embed = nn.Conv2d(3, config.embed_dim, config.patch, stride=config.patch)
        self.token_embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(10.0)))
        self.post_init()

    def _init_weights(self, module):
        pass

    def get_image_features(self, pixel_values):
        return self.patch_embed(pixel_values).flatten(2).mean(-1)

    def get_text_features(self, input_ids, attention_mask=None):
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        tokens = self.token_embed(input_ids) * mask[..., None]
        return tokens.sum(1) / mask.sum(1, keepdim=True)

    def forward(self, input_ids=None, pixel_values=None, attention_mask=None):
        image = nn.functional.normalize(self.get_image_features(pixel_values), dim=-1)
        text = nn.functional.normalize(self.get_text_features(input_ids, attention_mask), dim=-1)
        return self.logit_scale.exp() * image @ text.t()
'''


def build_tiny_custom_code(folder: Path, *, seed: int = 0) -> Path:
    """Save a tiny model that needs ``trust_remote_code`` (its classes live in the folder)."""
    import torch
    from transformers import AutoConfig, AutoModel

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configuration_tiny_remote.py").write_text(_CONFIG_CODE, encoding="utf-8")
    (folder / "modeling_tiny_remote.py").write_text(_MODEL_CODE, encoding="utf-8")
    config = {
        "model_type": "tiny_remote_clip",
        "architectures": ["TinyRemoteModel"],
        "auto_map": {
            "AutoConfig": "configuration_tiny_remote.TinyRemoteConfig",
            "AutoModel": "modeling_tiny_remote.TinyRemoteModel",
        },
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    torch.manual_seed(seed)
    model = AutoModel.from_config(AutoConfig.from_pretrained(folder, trust_remote_code=True), trust_remote_code=True)
    with torch.no_grad():
        for parameter in (model.patch_embed.weight, model.token_embed.weight):
            parameter.normal_(0, 0.5)
    model.save_pretrained(folder)
    clip_processor(folder, image_size=32).save_pretrained(folder)
    return folder


# ---------------------------------------------------------------------------- fake hub cache


def install_in_hf_cache(folder: Path, repo_id: str, hub_cache: Path | None = None, commit: str = FAKE_COMMIT) -> Path:
    """Copy a model folder into a Hugging Face cache as ``repo_id`` at revision ``main``.

    Parameters
    ----------
    folder : Path
        A saved model folder.
    repo_id : str
        ``"org/name"``.
    hub_cache : Path, optional
        The hub cache root; defaults to huggingface_hub's ``HF_HUB_CACHE``.
    commit : str
        40-hex commit id written to ``refs/main``.

    Returns
    -------
    Path
        The snapshot folder.
    """
    from huggingface_hub import constants

    root = Path(hub_cache or constants.HF_HUB_CACHE) / ("models--" + repo_id.replace("/", "--"))
    snapshot = root / "snapshots" / commit
    shutil.rmtree(snapshot, ignore_errors=True)
    shutil.copytree(folder, snapshot)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(commit, encoding="utf-8")
    return snapshot
