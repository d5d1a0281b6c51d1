"""Emotion dynamics: GLLA derivatives and (dynamic) Exploratory Graph Analysis.

A numerically faithful port of EGAnet 2.5.0's ``dynEGA`` and the pieces it is made of
(``Embed``, ``glla``, ``EGA``, ``tefi``, ``net.loads``, ``net.scores``); see
``docs/dynega-spec.md`` in the repository for the algorithm and its numerical details.

Modules: :mod:`.embed` (embedding, GLLA), :mod:`.rng` (EGAnet's xoshiro256++ and
ziggurat), :mod:`.correlation` (auto correlations, nearPD), :mod:`.glasso` (glasso 1.11
path port), :mod:`.ebicglasso`, :mod:`.tmfg`, :mod:`.community` (walktrap, EGAnet's
Louvain and consensus, Leiden and igraph's other algorithms that EGAnet offers),
:mod:`.fit` (TEFI), :mod:`.loadings`, :mod:`.ega`,
:mod:`.dynega`.
"""

from __future__ import annotations

from .dynega import DynEGAResult, dynEGA
from .ega import EGA, EGAResult
from .embed import Embed, glla
from .fit import tefi
from .loadings import NetLoads, net_loads, net_scores

__all__ = [
    "DynEGAResult",
    "EGA",
    "EGAResult",
    "Embed",
    "NetLoads",
    "dynEGA",
    "glla",
    "net_loads",
    "net_scores",
    "tefi",
]
