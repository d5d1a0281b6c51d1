"""Damped linear oscillator (DLO) emotion dynamics: simulation and estimation.

Public functions
----------------
simulate_dlo
    Exact simulation of the DLO (no discretisation error), vectorised over series.
simulate_video
    Number-for-number port of transforEmotion's ``simulate_video()`` (not a DLO).
estimate_dlo
    Parameter estimation (Kalman maximum likelihood, GLLA regression, neural
    network) on arrays or emotion-score tables.

The modules behind them: :mod:`~pybridge.dlo.simulate`, :mod:`~pybridge.dlo.transforemotion`,
:mod:`~pybridge.dlo.kalman`, :mod:`~pybridge.dlo.glla_regression`,
:mod:`~pybridge.dlo.estimate` and :mod:`~pybridge.dlo.neural`. This stage uses neither
the vision nor the dynamics stage.
"""

from __future__ import annotations

from .estimate import estimate_dlo
from .simulate import DLOSimulation, simulate_dlo
from .transforemotion import simulate_video

__all__ = ["simulate_dlo", "simulate_video", "estimate_dlo", "DLOSimulation"]
