"""Glue between the R package and the pybridge Python API (private to the R package).

R calls every pybridge function through :func:`call`, which turns a raised exception
and the warnings emitted on the way into plain data; R then signals them as R
conditions with the same message.

Data cross the language boundary as plain Python lists, dicts and scalars only:
reticulate 1.28 (Debian's) cannot convert NumPy >= 2 arrays in either direction, and
its pandas conversion would quote None as "None". :func:`from_r` rebuilds the arrays
and data frames R sends as tagged dicts, and :func:`to_r` does the reverse, so label
names, NaN, missing strings and integer columns survive exactly.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import warnings
from typing import Any

import numpy as np


class Outcome:
    """Result of one call: the value, or a description of the error, plus warnings.

    Attributes
    ----------
    value : object
        What the function returned (None if it raised).
    error : dict or None
        ``{"kinds": [...], "message": str, "type": str}`` when the function raised.
        ``kinds`` lists the ``kind`` of the exception class and of each pybridge base
        class, most specific first (empty for exceptions that are not pybridge's).
    warnings : list of str
        Messages of the warnings raised during the call, in order.
    """

    def __init__(self, value: Any, error: dict | None, messages: list[str]) -> None:
        self.value = value
        self.error = error
        self.warnings = messages


def import_pybridge() -> Any:
    """Import the pybridge Python package, or return None if it is not installed.

    Folders named ``pybridge`` that are not the Python package are skipped: R puts
    its packages in folders named after them (``R CMD check`` runs examples inside
    the library that holds the R package ``pybridge``), and Python would import such
    a folder on ``sys.path`` as an empty namespace package.

    Returns
    -------
    module or None

    Examples
    --------
    >>> import_pybridge().__name__
    'pybridge'
    """
    loaded = sys.modules.get("pybridge")
    if loaded is not None and getattr(loaded, "__file__", None) is None:
        del sys.modules["pybridge"]
    saved = list(sys.path)
    sys.path[:] = [entry for entry in saved if not _holds_namespace_pybridge(entry)]
    try:
        module = importlib.import_module("pybridge")
    except ImportError:
        return None
    finally:
        sys.path[:] = saved
    return module if getattr(module, "__file__", None) is not None else None


def _holds_namespace_pybridge(entry: str) -> bool:
    folder = os.path.join(entry or os.getcwd(), "pybridge")
    return os.path.isdir(folder) and not os.path.isfile(os.path.join(folder, "__init__.py"))


class _TorchOwnBlas(importlib.abc.MetaPathFinder):
    """Import torch with ``RTLD_DEEPBIND`` so that it uses its own BLAS inside R.

    libR loads the system BLAS (Debian: the reference BLAS) with global symbols, and
    torch's ``sgemm_`` calls then bind to it: inside R, matrix products ran through
    the slow reference BLAS and gave other float32 results than the same code in
    Python (differences of ~1e-7 in scores). Binding torch's libraries to their own
    symbols first restores torch's kernels.
    """

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            flags = sys.getdlopenflags()
            sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
            try:
                execute(module)
            finally:
                sys.setdlopenflags(flags)

        spec.loader.exec_module = exec_module
        return spec


def isolate_torch_blas() -> bool:
    """Make the first ``import torch`` bind torch to its own BLAS (Linux, inside R).

    Returns
    -------
    bool
        True if the hook was installed; False if torch is already imported or the
        platform has no ``RTLD_DEEPBIND`` (macOS and Windows do not interpose symbols
        this way).

    Examples
    --------
    >>> isinstance(isolate_torch_blas(), bool)
    True
    """
    if "torch" in sys.modules or not hasattr(os, "RTLD_DEEPBIND"):
        return False
    if not any(isinstance(finder, _TorchOwnBlas) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TorchOwnBlas())
    return True


class CallbackDraws:
    """Random-variate source for ``pybridge.simulate_video`` backed by R functions.

    The R package passes ``function(n, role) rnorm(n)`` and ``function(n, role)
    runif(n)``, so the simulator consumes R's random stream in transforEmotion's order
    and ``set.seed()`` in R reproduces transforEmotion's numbers.

    Parameters
    ----------
    normal, uniform : callable
        ``(n, role) -> sequence of n floats``: standard normal and U(0, 1) variates.

    Examples
    --------
    >>> draws = CallbackDraws(lambda n, role: [0.0] * n, lambda n, role: [0.5] * n)
    >>> draws.uniform(2, "q").tolist()
    [0.5, 0.5]
    """

    def __init__(self, normal: Any, uniform: Any) -> None:
        self._normal = normal
        self._uniform = uniform

    def normal(self, n: int, role: str) -> np.ndarray:
        return _variates(self._normal(int(n), role), n)

    def uniform(self, n: int, role: str) -> np.ndarray:
        return _variates(self._uniform(int(n), role), n)


def _variates(values: Any, n: int) -> np.ndarray:
    # R returns a length-1 vector as a scalar
    return np.asarray(values, dtype=float).reshape(int(n))


def describe_error(error: BaseException) -> dict:
    """Describe an exception as plain data for R.

    Parameters
    ----------
    error : BaseException
        The exception raised by a pybridge function.

    Returns
    -------
    dict
        ``kinds`` (the ``kind`` of every class in the MRO that defines one, most
        specific first, without duplicates), ``message`` (``str(error)``) and ``type``
        (the class name).

    Examples
    --------
    >>> from pybridge.errors import InvalidLabelsError
    >>> describe_error(InvalidLabelsError("no labels"))["kinds"]
    ['invalid_labels', 'invalid_input', 'error']
    """
    from pybridge.errors import PyBridgeError

    kinds: list[str] = []
    if isinstance(error, PyBridgeError):
        for cls in type(error).__mro__:
            kind = cls.__dict__.get("kind")
            if isinstance(kind, str) and kind not in kinds and issubclass(cls, PyBridgeError):
                kinds.append(kind)
    message = str(error)
    if not message and error.args:
        message = repr(error.args[0])
    return {"kinds": kinds, "message": message, "type": type(error).__name__}


def call(owner: Any, name: str, args: list, kwargs: dict) -> Outcome:
    """Call ``owner.name(*args, **kwargs)`` and capture its error and warnings.

    Parameters
    ----------
    owner : object
        The ``pybridge`` module (public functions) or an object (methods).
    name : str
        Name of the function or method; looked up inside the call, so that a failing
        lazy import is reported like any other error.
    args : list
        Positional arguments.
    kwargs : dict
        Keyword arguments.

    Returns
    -------
    Outcome
        The value or the error description, and the warning messages.

    Examples
    --------
    >>> import builtins
    >>> call(builtins, "int", ["3"], {}).value
    3
    >>> call(builtins, "int", ["x"], {}).error["type"]
    'ValueError'
    """
    with warnings.catch_warnings(record=True) as caught:
        try:
            function = getattr(owner, name)
            value, error = function(*from_r(list(args)), **from_r(dict(kwargs))), None
        except Exception as exc:  # handed to R, which re-raises it as a condition
            value, error = None, describe_error(exc)
    messages = [str(item.message) for item in caught]
    return Outcome(value, error, messages)


def from_r(value: Any) -> Any:
    """Rebuild the arrays and data frames that R sends as tagged dicts.

    Parameters
    ----------
    value : object
        Plain data from R. ``{"__array__": {"data": [...], "dim": [...]}}`` (values in
        R's column-major order) becomes a NumPy array and
        ``{"__frame__": {"names": [...], "columns": [[...], ...]}}`` a pandas DataFrame
        (with the scores table's dtypes, :func:`pybridge.scores_table.set_dtypes`, and its
        provenance from an optional ``"provenance"`` entry);
        lists and dicts are converted element by element.

    Returns
    -------
    object
        The value with NumPy arrays and DataFrames in place of the tags.

    Examples
    --------
    >>> from_r({"__array__": {"data": [1.0, 2.0, 3.0, 4.0], "dim": [2, 2]}}).tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            spec = value["__array__"]
            dim = [int(d) for d in _as_list(spec["dim"])]
            data = [np.nan if item is None else item for item in _as_list(spec["data"])]
            return np.asarray(data).reshape(dim, order="F")
        if set(value) == {"__frame__"}:
            import pandas as pd

            spec = value["__frame__"]
            names = [str(name) for name in _as_list(spec["names"])]
            columns = [_as_list(column) for column in _as_list(spec["columns"])]
            from pybridge.scores_table import set_dtypes, set_provenance

            frame = pd.DataFrame({name: column for name, column in zip(names, columns)}, columns=names)
            # R's NA arrives as None: give a scores table's metadata columns their dtypes
            set_dtypes(frame)
            provenance = spec.get("provenance")
            if provenance is not None:
                set_provenance(frame, from_r(provenance))
            return frame
        return {key: from_r(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_r(item) for item in value]
    return value


def to_r(value: Any) -> Any:
    """Turn NumPy arrays and pandas DataFrames into tagged plain data for R.

    Parameters
    ----------
    value : object
        A value returned by pybridge. Dicts, lists and tuples are converted element
        by element; other objects (models, probes, results with methods) are kept.

    Returns
    -------
    object
        ``{"__array__": {"data": [...], "dim": [...]}}`` for an array (column-major
        data), ``{"__frame__": {"names", "types", "columns"}}`` for a DataFrame (see
        :func:`frame_to_columns`), Python scalars for NumPy scalars.

    Examples
    --------
    >>> to_r(np.arange(4.0).reshape(2, 2))
    {'__array__': {'data': [0.0, 2.0, 1.0, 3.0], 'dim': [2, 2]}}
    """
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        columns = frame_to_columns(value)
        return {
            "__frame__": {
                "names": [name for name, _, _ in columns],
                "types": [kind for _, kind, _ in columns],
                "columns": [values for _, _, values in columns],
                "attrs": to_r(dict(value.attrs)),
            }
        }
    if isinstance(value, pd.Series):
        return to_r(value.to_numpy())
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub":
            data = value.ravel(order="F").tolist()
        elif value.dtype.kind in "fc":
            data = value.astype(float).ravel(order="F").tolist()
        else:
            data = [None if item is None else str(item) for item in value.ravel(order="F")]
        return {"__array__": {"data": data, "dim": list(value.shape)}}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(key): to_r(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_r(item) for item in value]
    return value


def _as_list(value: Any) -> list:
    # reticulate sends a length-1 R vector as a scalar
    return list(value) if isinstance(value, (list, tuple)) else [value]


def frame_to_columns(frame: Any) -> list[tuple[str, str, list]]:
    """Split a pandas DataFrame into ``(name, type, values)`` triples for R.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any DataFrame returned by pybridge.

    Returns
    -------
    list of tuple
        One triple per column, in order. ``type`` is ``"double"`` (floats, NaN kept),
        ``"integer"``, ``"logical"`` or ``"character"``; ``values`` is a plain list with
        None for missing values (except NaN in ``"double"`` columns).

    Examples
    --------
    >>> import pandas as pd
    >>> frame_to_columns(pd.DataFrame({"a": [1, 2], "b": ["x", None]}))
    [('a', 'integer', [1, 2]), ('b', 'character', ['x', None])]
    """
    import pandas as pd

    columns = []
    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        missing = series.isna().to_numpy()
        dtype = series.dtype
        present = series[~missing]
        if pd.api.types.is_bool_dtype(dtype) or (
            pd.api.types.is_object_dtype(dtype)
            and len(present)
            and all(isinstance(v, (bool, np.bool_)) for v in present)
        ):
            values = [None if gone else bool(v) for v, gone in zip(series, missing)]
            columns.append((str(name), "logical", values))
        elif pd.api.types.is_integer_dtype(dtype) and not missing.any() and _fits_int32(series):
            columns.append((str(name), "integer", [int(v) for v in series]))
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan).tolist()
            columns.append((str(name), "double", values))
        else:
            values = [None if gone else str(v) for v, gone in zip(series, missing)]
            columns.append((str(name), "character", values))
    return columns


def _fits_int32(series: Any) -> bool:
    if len(series) == 0:
        return True
    info = np.iinfo(np.int32)
    return bool(series.min() > info.min and series.max() <= info.max)


# --- EGAnet's functions (dynEGA, EGA, net.loads, net.scores, tefi) -----------------
# The R package maps EGAnet's argument names and values onto pybridge.dynamics; these
# helpers hand the results back as plain data (arrays, names, scalars) in one piece, so
# that R builds EGAnet's objects from a single conversion.


def ega_for_r(result: Any) -> dict:
    """An ``EGAResult`` as plain data for R's ``EGA`` objects.

    Parameters
    ----------
    result : pybridge.dynamics.EGAResult

    Returns
    -------
    dict
        ``names``, ``network`` and ``correlation`` (arrays), ``wc`` (float array, NaN
        for NA), ``n_dim``, ``tefi``, ``unidimensional``, ``n`` and ``methods``.

    Examples
    --------
    >>> from pybridge.dynamics import EGA
    >>> ega = EGA(np.random.default_rng(0).normal(size=(60, 4)), seed=1)
    >>> ega_for_r(ega)["names"]
    ['V1', 'V2', 'V3', 'V4']
    """
    return {
        "names": [str(name) for name in result.network.columns],
        "network": result.network.to_numpy(dtype=float),
        "correlation": result.correlation.to_numpy(dtype=float),
        "wc": result.wc.to_numpy(dtype=float),
        "n_dim": int(result.n_dim),
        "tefi": float(result.tefi),
        "unidimensional": bool(result.unidimensional),
        "n": int(result.n),
        "methods": to_r(dict(result.methods)),
    }


def ega(data: Any, **options: Any) -> dict:
    """Run :func:`pybridge.dynamics.EGA` and return :func:`ega_for_r` of the result.

    Parameters
    ----------
    data : pandas.DataFrame or numpy.ndarray
        As for :func:`pybridge.dynamics.EGA`.
    **options
        Keyword arguments of :func:`pybridge.dynamics.EGA`.

    Returns
    -------
    dict

    Examples
    --------
    >>> ega(np.random.default_rng(0).normal(size=(60, 4)), seed=1)["n"]
    60
    """
    from pybridge.dynamics import EGA

    return ega_for_r(EGA(data, **options))


def dynega(data: Any, **options: Any) -> dict:
    """Run :func:`pybridge.dynamics.dynEGA` and return its result as plain data for R.

    Parameters
    ----------
    data : pandas.DataFrame
    **options
        Keyword arguments of :func:`pybridge.dynamics.dynEGA`.

    Returns
    -------
    dict
        ``derivatives`` (DataFrame), ``population`` (:func:`ega_for_r` or None),
        ``group`` and ``individual`` (lists of those) with ``group_names`` and
        ``individual_names``, and ``methods``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 4)).cumsum(0),
    ...                      columns=list("abcd"))
    >>> sorted(dynega(frame, seed=1)["population"])[:2]
    ['correlation', 'methods']
    """
    from pybridge.dynamics import dynEGA

    result = dynEGA(data, **options)
    return {
        "derivatives": result.derivatives,
        "population": None if result.population is None else ega_for_r(result.population),
        "group_names": list(result.group),
        "group": [ega_for_r(item) for item in result.group.values()],
        "individual_names": list(result.individual),
        "individual": [ega_for_r(item) for item in result.individual.values()],
        "methods": to_r(dict(result.methods)),
    }


def _network_frame(network: Any, names: Any) -> Any:
    import pandas as pd

    labels = [str(name) for name in _as_list(names)]
    return pd.DataFrame(np.asarray(network, dtype=float), index=labels, columns=labels)


def net_loads(network: Any, names: Any, wc: Any, loading_method: str = "revised") -> dict:
    """Network loadings for R's ``net.loads``.

    Parameters
    ----------
    network : numpy.ndarray, shape (p, p)
    names : list of str
        Node names (row and column names of ``network``).
    wc : array-like of float, shape (p,)
        Memberships (NaN for NA).
    loading_method : {"revised", "original"}, default "revised"

    Returns
    -------
    dict
        ``unstd`` and ``std`` (arrays, rows in EGAnet's order), ``rows`` (their node
        names) and ``columns`` (community labels as strings).

    Examples
    --------
    >>> a = np.kron(np.eye(2), np.full((2, 2), 0.4))
    >>> net_loads(a, ["a", "b", "c", "d"], [1.0, 1.0, 2.0, 2.0])["columns"]
    ['1', '2']
    """
    from pybridge.dynamics import net_loads as loads

    result = loads(_network_frame(network, names), np.asarray(_as_list(wc), dtype=float), loading_method=loading_method)
    return {
        "unstd": result.unstd.to_numpy(dtype=float),
        "std": result.std.to_numpy(dtype=float),
        "rows": [str(name) for name in result.std.index],
        "columns": [str(name) for name in result.std.columns],
    }


def net_scores(data: Any, network: Any, names: Any, wc: Any, loading_method: str = "revised") -> dict:
    """Network scores for R's ``net.scores``.

    Parameters
    ----------
    data : pandas.DataFrame
        The network's variables.
    network, names, wc, loading_method
        As for :func:`net_loads`.

    Returns
    -------
    dict
        ``scores`` (array, one column per community) and ``columns`` (their labels).

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame(np.random.default_rng(0).normal(size=(20, 4)), columns=list("abcd"))
    >>> a = np.kron(np.eye(2), np.full((2, 2), 0.4))
    >>> net_scores(x, a, list("abcd"), [1.0, 1.0, 2.0, 2.0])["scores"].shape
    (20, 2)
    """
    from pybridge.dynamics import net_scores as scores

    result = scores(
        data, _network_frame(network, names), np.asarray(_as_list(wc), dtype=float), loading_method=loading_method
    )
    return {"scores": result.to_numpy(dtype=float), "columns": [str(c) for c in result.columns]}


def tefi(data: Any, wc: Any) -> dict:
    """TEFI of memberships on a correlation matrix, or on data (auto correlations).

    Parameters
    ----------
    data : numpy.ndarray
        A correlation matrix (square and symmetric) or observations x variables.
    wc : array-like of float
        Memberships (NaN for NA).

    Returns
    -------
    dict
        ``VN.Entropy.Fit``, ``Total.Correlation``, ``Average.Entropy``.

    Examples
    --------
    >>> r = np.array([[1, .6, .1, .1], [.6, 1, .1, .1], [.1, .1, 1, .6], [.1, .1, .6, 1]])
    >>> round(tefi(r, [1.0, 1.0, 2.0, 2.0])["VN.Entropy.Fit"], 3) < 0
    True
    """
    from pybridge.dynamics import tefi as fit
    from pybridge.dynamics.correlation import auto_correlate

    values = np.asarray(data, dtype=float)
    square = values.ndim == 2 and values.shape[0] == values.shape[1]
    if not (square and np.isfinite(values).all() and np.allclose(values, values.T)):
        values = auto_correlate(values, "auto", "pairwise")
    return fit(values, np.asarray(_as_list(wc), dtype=float))
