"""How well could any estimator do at T = 100? The information limit of the DLO goals.

Two references on the two T = 100 conditions of ``bench_dlo_recovery.py`` (the same
held-out series), next to the shipped network:

1. **Exact posterior means** (always run, about 4 minutes). For every series the
   posterior mean of ``eta`` and ``zeta`` is integrated on a grid (60 periods x 60
   damping ratios over the design's uniform ranges, sigma_q on 240 log-spaced values)
   with the exact Kalman likelihood of the sampled oscillator, the series' mean
   integrated out under a flat prior and sigma_q under a scale-invariant (log-uniform)
   prior: the best mean-squared-error estimator that, like the network, does not use
   the series' level or units. It is computed with the measurement-noise share known
   (0 or 10 %, as the design fixes it) and unknown (the training prior's mixture: none
   25 %, otherwise U(0, 0.2) or U(0, 0.5) with probabilities 0.8 and 0.2). Its
   Pearson r is what the acceptance goals can be compared with: an estimator that
   minimises squared error cannot be expected to correlate better.

2. **Networks told part of the answer** (``--oracle-networks``, about 15 minutes):
   the shipped architecture, loss and optimiser trained only on 100-frame series
   without noise, only on 100-frame series with noise exactly 10 %, or only on
   100-frame series with the shipped noise prior (``--steps`` steps each).

Run::

    python tests/benchmarks/bench_dlo_information_limit.py [--oracle-networks] [--out DIR] [--steps 8000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import torch
from bench_dlo_recovery import DT, MIN_R, pearson_interval, simulate_conditions

from pybridge.dlo.kalman import _filter_sums_fast
from pybridge.dlo.neural import estimate_neural
from pybridge.dlo.simulate import exact_discretization, period_damping_to_eta_zeta, stationary_covariance
from pybridge.dlo.train import TrainingPrior, train

N_PERIODS, N_RATIOS = 60, 60
SIGMA_GRID = np.exp(np.linspace(np.log(1e-3), np.log(1e2), 240))
# The shipped training prior's noise shares: none with probability 0.25, otherwise
# U(0, 0.2) with probability 0.8 and U(0, 0.5) with 0.2, on cells 0.025 wide.
_NOISE_CELLS = np.linspace(0.0125, 0.4875, 20)
NOISE_GRID = np.concatenate([[0.0], _NOISE_CELLS])
NOISE_PRIOR = np.concatenate([[0.25], 0.75 * 0.025 * np.where(_NOISE_CELLS < 0.2, 0.8 / 0.2 + 0.2 / 0.5, 0.2 / 0.5)])

SPECIALISTS = {
    "told T=100 and no noise": TrainingPrior(
        supported_share=1.0,
        zero_noise_probability=1.0,
        gap_probability=0.0,
        typical_length=(100, 100),
        typical_length_probability=1.0,
    ),
    "told T=100 and noise 10 %": TrainingPrior(
        supported_share=1.0,
        zero_noise_probability=0.0,
        gap_probability=0.0,
        noise_share=(0.1, 0.1),
        supported_noise_share=(0.1, 0.1),
        typical_length=(100, 100),
        typical_length_probability=1.0,
    ),
    "told T=100 only": TrainingPrior(typical_length=(100, 100), typical_length_probability=1.0),
}


@numba.njit(cache=True)
def _grid_filter_sums(y, transition, noise, stationary, r2):
    """pybridge's compiled Kalman filter (of ``y`` and of a constant, shared gains) at
    every grid point, from the stationary start."""
    n_points = transition.shape[0]
    log_det, syy, syc, scc = np.empty(n_points), np.empty(n_points), np.empty(n_points), np.empty(n_points)
    for i in range(n_points):
        log_det[i], syy[i], syc[i], scc[i], _ = _filter_sums_fast(
            y,
            transition[i, 0, 0],
            transition[i, 0, 1],
            transition[i, 1, 0],
            transition[i, 1, 1],
            noise[i, 0, 0],
            noise[i, 0, 1],
            noise[i, 1, 1],
            stationary[i, 0, 0],
            stationary[i, 0, 1],
            stationary[i, 1, 1],
            r2[i],
        )
    return log_det, syy, syc, scc


class DesignGrid:
    """Midpoint grid over the design's period and damping-ratio ranges, with the exact
    one-step transition and noise covariance of each point at sigma_q = 1."""

    def __init__(self) -> None:
        period = 20.0 + 40.0 * (np.arange(N_PERIODS) + 0.5) / N_PERIODS
        ratio = 0.05 + 0.55 * (np.arange(N_RATIOS) + 0.5) / N_RATIOS
        period, ratio = (grid.ravel() for grid in np.meshgrid(period, ratio, indexing="ij"))
        self.eta, self.zeta = period_damping_to_eta_zeta(period, ratio, dt=DT)
        unit = np.ones_like(self.eta)
        self.transition, self.noise = exact_discretization(self.eta, self.zeta, unit, dt=DT)
        self.stationary = stationary_covariance(self.eta, self.zeta, unit)

    def profile(self, y: np.ndarray, noise_share: float) -> tuple[np.ndarray, np.ndarray]:
        """The Kalman log-likelihood terms of ``y`` at sigma_q = 1 for every grid point.

        Returns the terms with the mean integrated out (flat prior):
        ``log det + log(c' C^-1 c)`` and the generalised residual sum of squares;
        sigma_q scales the covariance, so it enters in closed form.
        """
        r2 = noise_share**2 * self.stationary[:, 0, 0]
        log_det, syy, syc, scc = _grid_filter_sums(
            np.ascontiguousarray(y, dtype=float), self.transition, self.noise, self.stationary, r2
        )
        return log_det + np.log(scc), syy - syc**2 / scc

    def posterior_mean(self, y: np.ndarray, noise_shares: np.ndarray, noise_prior: np.ndarray) -> tuple[float, float]:
        """Posterior means of eta and zeta (uniform period and ratio, log-uniform sigma_q)."""
        n = len(y)
        log_posterior = []
        for share, prior in zip(noise_shares, noise_prior):
            constant, residual = self.profile(y, float(share))
            log_posterior.append(
                np.log(prior)
                - 0.5
                * (
                    (n - 1) * np.log(SIGMA_GRID[None, :] ** 2)
                    + constant[:, None]
                    + residual[:, None] / SIGMA_GRID[None, :] ** 2
                )
            )
        stacked = np.stack(log_posterior)
        weights = np.exp(stacked - stacked.max()).sum(axis=(0, 2))
        weights /= weights.sum()
        return float(weights @ self.eta), float(weights @ self.zeta)


def _r_with_interval(estimate: np.ndarray, truth: np.ndarray) -> str:
    r = float(np.corrcoef(estimate, truth)[0, 1])
    low, high = pearson_interval(r, len(truth))
    return f"{r:.3f} [{low:.3f}, {high:.3f}]"


def _row(name: str, eta: np.ndarray, zeta: np.ndarray, truth) -> str:
    cells = []
    for parameter, estimate in (("eta", eta), ("zeta", zeta)):
        true = truth[parameter].to_numpy()
        rmse = float(np.sqrt(np.mean((estimate - true) ** 2)))
        cells.append(f"{parameter} r {_r_with_interval(estimate, true)} (RMSE {rmse:.3f})")
    return f"  {name:52s} " + "   ".join(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--oracle-networks", action="store_true", help="also train and score the networks told the length / noise level"
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for those networks")
    parser.add_argument("--steps", type=int, default=8000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    networks: dict[str, Path | None] = {"shipped network": None}
    if args.oracle_networks:
        out = args.out or Path(tempfile.mkdtemp(prefix="dlo_information_limit_"))
        for index, (name, prior) in enumerate(SPECIALISTS.items()):
            folder = out / f"specialist_{index}"
            if not (folder / "dlo_cnn_lstm.safetensors").is_file():
                print(f"training '{name}' ({args.steps} steps) into {folder}", file=sys.stderr, flush=True)
                train(folder, seed=0, steps=args.steps, threads=1, prior=prior, log_every=1000)
            networks[name] = folder

    grid = DesignGrid()
    conditions = list(zip(simulate_conditions()[:2], (0.0, 0.1)))  # T = 100, noise 0 and 10 %
    print(
        f"Pearson r with the truth [95 % interval] and RMSE, 200 held-out series per condition "
        f"(goals: eta r >= {MIN_R['eta']}, zeta r >= {MIN_R['zeta']})"
    )
    for data, design_share in conditions:
        truth = data["truth"]
        print(f"\n{data['name']}")
        for name, folder in networks.items():
            table = estimate_neural(list(data["y"]), dt=DT, weights_dir=folder)
            print(_row(name, table["eta"].to_numpy(), table["zeta"].to_numpy(), truth))
        for label, shares, prior in (
            (f"exact posterior mean, noise share known ({design_share:g})", np.array([design_share]), np.ones(1)),
            ("exact posterior mean, noise share unknown", NOISE_GRID, NOISE_PRIOR),
        ):
            started = time.perf_counter()
            means = np.array([grid.posterior_mean(y, shares, prior) for y in data["y"]])
            print(
                _row(label, means[:, 0], means[:, 1], truth) + f"   [{time.perf_counter() - started:.0f} s]", flush=True
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
