"""GLLA weights: the one home of the derivative weights that dynEGA and the DLO share.

Generalised local linear approximation (Boker, Deboeck, Edler and Keel, 2010) turns a
window of ``n_embed`` observations into estimates of the level and its derivatives
at the window's centre: the window times ``W = L (L^T L)^-1``, where ``L`` holds the
Taylor loadings ``t_i^k / k!`` of each window position ``i`` and derivative order
``k``. The dynamics stage (EGAnet's ``glla``) and the DLO stage (GLLA regression)
both use it and neither imports the other, so it lives here.

Examples
--------
>>> glla_weights(3)[:, 1].round(6).tolist()
[-0.5, 0.0, 0.5]
"""

from __future__ import annotations

import math

import numpy as np

from .errors import InvalidInputError
from .validation import check_dt, check_integer

__all__ = ["GLLA_OFFSETS", "glla_weights"]

#: How the time offsets ``t_i`` of the window positions are placed.
GLLA_OFFSETS = ("centred", "eganet")


def glla_weights(
    n_embed: int, dt: float = 1.0, order: int = 2, tau: int = 1, *, offsets: str = "centred"
) -> np.ndarray:
    """GLLA weight matrix ``W = L (L^T L)^-1``.

    Parameters
    ----------
    n_embed : int
        Window length, > ``order``.
    dt : float, default 1.0
        Time between observations (EGAnet's ``delta``).
    order : int, default 2
        Highest derivative.
    tau : int, default 1
        Lag between the window's observations.
    offsets : {"centred", "eganet"}, default "centred"
        ``"centred"``: ``t_i = (i - (n_embed - 1) / 2) * tau * dt`` for ``i = 0 ..
        n_embed - 1``, the Taylor loadings around the window's centre. ``"eganet"``:
        EGAnet 2.5.0's ``t_i = tau * dt * i - (n_embed + 1) / 2`` for ``i = 1 ..
        n_embed`` (the mean of the positions is not scaled by ``tau * dt``), so that
        estimates equal EGAnet's for every ``tau`` and ``delta``. Both agree when
        ``tau * dt = 1``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_embed, order + 1)``; column ``k`` turns a window into the ``k``-th
        derivative estimate.

    Raises
    ------
    InvalidInputError
        ``n_embed <= order``, an argument that is not a positive integer (``order``:
        non-negative) or number, or an unknown ``offsets``.

    Examples
    --------
    >>> w = glla_weights(3)
    >>> np.round(w[:, 1], 6).tolist(), np.round(w[:, 2], 6).tolist()
    ([-0.5, 0.0, 0.5], [1.0, -2.0, 1.0])
    >>> np.round(glla_weights(5, offsets="eganet")[:, 1], 3)
    array([-0.2, -0.1,  0. ,  0.1,  0.2])
    """
    # whole floats are fine: R passes whole numbers as doubles
    n_embed = check_integer(n_embed, "n_embed", 1, whole_floats=True)
    order = check_integer(order, "order", 0, whole_floats=True)
    tau = check_integer(tau, "tau", 1, whole_floats=True)
    dt = check_dt(dt)
    if n_embed <= order:
        raise InvalidInputError(
            f"n_embed ({n_embed}) must exceed the derivative order ({order}); use n_embed >= {order + 1}"
        )
    if offsets == "centred":
        times = (np.arange(n_embed) - (n_embed - 1) / 2.0) * tau * dt
    elif offsets == "eganet":
        positions = np.arange(1, n_embed + 1, dtype=float)
        times = tau * dt * positions - positions.mean()
    else:
        raise InvalidInputError(f"offsets must be one of {', '.join(GLLA_OFFSETS)}; got {offsets!r}")
    factorials = np.array([math.factorial(k) for k in range(order + 1)], dtype=float)
    loadings = times[:, None] ** np.arange(order + 1) / factorials
    return loadings @ np.linalg.inv(loadings.T @ loadings)
