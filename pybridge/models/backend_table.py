"""The backend table: what pybridge knows about each model backend, as data.

Each backend module fills in its own row with :func:`register_backend` when it is
imported (importing :mod:`pybridge.models.backends` imports the built-in ones). The
manager, the registry and the download functions read the row instead of testing the
backend's name, so a new backend is one new module. The rows name their functions as
``"module:function"`` strings, imported when first called, so reading the table never
imports torch or a model library.

Examples
--------
>>> get_backend("open_clip").hub_prefix
'hf-hub:'
>>> backend_names()
('open_clip', 'transformers', 'fer_cnn')
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError

__all__ = ["Backend", "backend_names", "get_backend", "register_backend"]


@dataclass(frozen=True)
class Backend:
    """One model backend.

    Parameters
    ----------
    name : str
        The ``backend`` of a :class:`~pybridge.models.registry.ModelSpec`.
    loader : str
        ``"module:function"`` that loads a model. Backends with hub weights are called
        as ``loader(spec, folder, device, dtype, quantization, trust_remote_code)``,
        the others as ``loader(spec, device, dtype)``.
    hub_weights : bool, default True
        The weights are a Hugging Face snapshot (or a local folder of one); ``False``
        when the backend finds and downloads its own (``find_weights``,
        ``download_weights``).
    hub_prefix : str, default ""
        Prefix of the backend's hub ids in a spec's ``source`` (``"hf-hub:"``).
    weights_prefix : str, default ""
        File-name prefix of its weights inside a hub snapshot.
    config_file : str, optional
        File that marks a local model folder of this backend; read by ``family``.
    local_file_suffixes : tuple of str
        Suffixes of a single local weights file of this backend (``.hdf5``).
    quantizations : tuple of str
        Quantisations the loader supports (``"nf4"``).
    user_registrable : bool, default True
        Whether ``register_model`` accepts it.
    fixed_classes : bool, default False
        Its models classify into fixed classes (no labels); ``False`` for zero-shot
        models, which need labels.
    family : callable, optional
        ``family(config) -> str | None``: the model family read from ``config_file``.
    find_weights, download_weights : str, optional
        ``"module:function"`` of backends without hub weights: ``find_weights(source)``
        returns the weights' path or None, ``download_weights()`` fetches them into
        the pybridge cache.
    cache_subdir : str, optional
        Its folder in the pybridge cache (deleted by ``remove_model``).
    """

    name: str
    loader: str
    hub_weights: bool = True
    hub_prefix: str = ""
    weights_prefix: str = ""
    config_file: str | None = None
    local_file_suffixes: tuple[str, ...] = ()
    quantizations: tuple[str, ...] = ()
    user_registrable: bool = True
    fixed_classes: bool = False
    family: Callable[[dict], str | None] | None = field(default=None, compare=False)
    find_weights: str | None = None
    download_weights: str | None = None
    cache_subdir: str | None = None

    def function(self, role: str) -> Callable[..., Any]:
        """Import and return one of the row's ``"module:function"`` entries.

        Parameters
        ----------
        role : {"loader", "find_weights", "download_weights"}

        Returns
        -------
        callable

        Raises
        ------
        InvalidInputError
            The backend has no function for that role.

        Examples
        --------
        >>> get_backend("fer_cnn").function("find_weights").__name__
        'find_fer_weights'
        """
        target = getattr(self, role, None)
        if not isinstance(target, str):
            raise InvalidInputError(f"the {self.name} backend has no {role} function")
        module_name, function_name = target.split(":")
        return getattr(importlib.import_module(module_name), function_name)


_TABLE: dict[str, Backend] = {}


def register_backend(backend: Backend) -> Backend:
    """Add (or replace) a backend's row; backend modules call this when imported.

    Parameters
    ----------
    backend : Backend

    Returns
    -------
    Backend
        ``backend``, so a module can keep it as a constant.

    Examples
    --------
    >>> register_backend(get_backend("transformers")).name
    'transformers'
    """
    _TABLE[backend.name] = backend
    return backend


def _builtin_backends() -> dict[str, Backend]:
    # importing the package imports (and so registers) every built-in backend module
    importlib.import_module("pybridge.models.backends")
    return _TABLE


def backend_names() -> tuple[str, ...]:
    """Names of the registered backends, in registration order.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> "transformers" in backend_names()
    True
    """
    return tuple(_builtin_backends())


def get_backend(name: str) -> Backend:
    """The row of one backend.

    Parameters
    ----------
    name : str

    Returns
    -------
    Backend

    Raises
    ------
    InvalidInputError
        No backend has that name.

    Examples
    --------
    >>> get_backend("transformers").quantizations
    ('nf4',)
    """
    table = _builtin_backends()
    if name not in table:
        raise InvalidInputError(f"backend must be one of {', '.join(table)}; got {name!r}")
    return table[name]
