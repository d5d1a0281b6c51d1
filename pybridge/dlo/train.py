"""Train the CNN-LSTM DLO estimator on simulated series.

Run ``python -m pybridge.dlo.train --out DIR --seed 0`` (or ``pybridge dlo train --
--out DIR``). Every batch is freshly simulated with the exact simulator
:func:`pybridge.dlo.simulate.simulate_dlo`, so the network never sees the same series
twice and cannot overfit; with the same seed, thread count and library versions the
run is reproducible. It writes ``dlo_cnn_lstm.safetensors`` (float32 weights) and
``dlo_cnn_lstm.json`` (architecture, prior, loss, optimiser, seed, command, versions,
run time and validation scores), which :func:`pybridge.dlo.neural.load_dlo_net`
reads. The shipped weights come from ``python -m pybridge.dlo.train --out DIR --seed 0
--threads 1`` (24000 steps, the default): 26 minutes on one core of a 2-core CPU.

Training prior (frame units, i.e. ``dt = 1``)
--------------------------------------------
90 % of the series come from the supported range (damped period U(20, 60) frames,
damping ratio U(0.05, 0.6)), 10 % from a wider envelope (period log-uniform on
10-100 frames, damping ratio U(0.02, 0.9)), so the edges of the supported range are
not extrapolation. Measurement noise is absent for a quarter of the series; the
others get noise with sd U(0, 0.2) (80 %: the supported range, 0-10 %, with a margin
so that 10 % is not an edge of the prior) or U(0, 0.5) (20 %) times the stationary sd
of ``x``. The amplitude (stationary sd
of ``x``) is log-uniform on 0.1-10; it does not matter to a scale-equivariant
network but checks that it is. Lengths are U(80, 320) frames for 70 % of the
batches and log-uniform on 50-1000 otherwise. 15 % of the series get 1-3 interior
gaps of 1-8 missing frames.

Loss
----
On the normalised transformed parameters (``log(-eta)``, ``log(-zeta)``,
``log(sigma_q / sd)``): squared error of the point estimates; the interval score of
the 90 % intervals (a proper scoring rule for the 5 % and 95 % quantiles); ``1 - r``
(Pearson correlation with the truth within the batch) per parameter; the squared
error of an auxiliary measurement-noise head; and a physics term, the squared
difference between the autocovariances of the standardised series at lags 0, 1, 2,
4, 8, 16 and those implied by the estimated parameters (the noise head supplies the
lag-0 measurement variance). No finite-difference derivatives enter the loss: their
residuals favour zero damping on stationary data.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InvalidInputError
from ..torch_threads import set_torch_threads
from .neural import (
    INTERVAL_LEVEL,
    METADATA_FILE,
    PARAMETERS,
    WEIGHTS_FILE,
    DLONet,
    prepare_series,
)
from .simulate import period_damping_to_eta_zeta, simulate_dlo

__all__ = [
    "TrainingPrior",
    "LossWeights",
    "sample_parameters",
    "simulate_training_batch",
    "training_loss",
    "interval_score",
    "train",
    "main",
]

_ALPHA = 1.0 - INTERVAL_LEVEL
_PHYSICS_LAGS = (1, 2, 4, 8, 16)
# Offset inside the log of the auxiliary noise target so that zero noise stays finite.
_NOISE_OFFSET = 0.05


@dataclass(frozen=True)
class TrainingPrior:
    """Distribution of the simulated training series (frame units).

    Attributes
    ----------
    supported_period, supported_ratio : tuple of float
        Uniform ranges of the damped period (frames) and damping ratio of the
        supported component.
    wide_period : tuple of float
        Log-uniform range of the period in the wide component.
    wide_ratio : tuple of float
        Uniform range of the damping ratio in the wide component.
    supported_share : float
        Probability that a series comes from the supported component.
    noise_share : tuple of float
        Uniform range of the measurement-noise sd relative to the stationary sd of x
        in the wide noise component.
    supported_noise_share : tuple of float
        Uniform range of the noise share in the supported noise component.
    supported_noise_probability : float
        Probability, among series with noise, of the supported noise component.
    zero_noise_probability : float
        Probability of no measurement noise at all.
    amplitude : tuple of float
        Log-uniform range of the stationary sd of x.
    typical_length, length : tuple of int
        Uniform range of lengths for most batches, log-uniform range for the rest.
    typical_length_probability : float
        Share of batches with a typical length.
    gap_probability : float
        Share of series with interior gaps.
    max_gaps, max_gap_length : int
        Gaps per gappy series (1 to max_gaps) and their length (1 to max_gap_length).
    """

    supported_period: tuple[float, float] = (20.0, 60.0)
    supported_ratio: tuple[float, float] = (0.05, 0.6)
    wide_period: tuple[float, float] = (10.0, 100.0)
    wide_ratio: tuple[float, float] = (0.02, 0.9)
    supported_share: float = 0.9
    noise_share: tuple[float, float] = (0.0, 0.5)
    supported_noise_share: tuple[float, float] = (0.0, 0.2)
    supported_noise_probability: float = 0.8
    zero_noise_probability: float = 0.25
    amplitude: tuple[float, float] = (0.1, 10.0)
    typical_length: tuple[int, int] = (80, 320)
    length: tuple[int, int] = (50, 1000)
    typical_length_probability: float = 0.7
    gap_probability: float = 0.15
    max_gaps: int = 3
    max_gap_length: int = 8


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (the point squared error has weight 1)."""

    interval: float = 0.5
    correlation: float = 0.1
    noise: float = 0.1
    physics: float = 0.05


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float], size: int) -> np.ndarray:
    return np.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]), size))


def sample_parameters(rng: np.random.Generator, n: int, prior: TrainingPrior) -> dict[str, np.ndarray]:
    """Draw frame-unit DLO parameters and noise shares from the training prior.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Number of draws.
    prior : TrainingPrior

    Returns
    -------
    dict of str to numpy.ndarray
        ``eta``, ``zeta``, ``sigma_q`` (frame units), ``noise_share`` and
        ``meas_sd``, each of shape ``(n,)``.

    Examples
    --------
    >>> draws = sample_parameters(np.random.default_rng(0), 5, TrainingPrior())
    >>> bool((draws["eta"] < 0).all() and (draws["zeta"] < 0).all())
    True
    """
    supported = rng.random(n) < prior.supported_share
    period = np.where(
        supported,
        rng.uniform(*prior.supported_period, n),
        _log_uniform(rng, prior.wide_period, n),
    )
    ratio = np.where(supported, rng.uniform(*prior.supported_ratio, n), rng.uniform(*prior.wide_ratio, n))
    eta, zeta = period_damping_to_eta_zeta(period, ratio, dt=1.0)
    amplitude = _log_uniform(rng, prior.amplitude, n)
    sigma_q = amplitude * np.sqrt(2.0 * eta * zeta)
    noisy_share = np.where(
        rng.random(n) < prior.supported_noise_probability,
        rng.uniform(*prior.supported_noise_share, n),
        rng.uniform(*prior.noise_share, n),
    )
    noise_share = np.where(rng.random(n) < prior.zero_noise_probability, 0.0, noisy_share)
    return {
        "eta": eta,
        "zeta": zeta,
        "sigma_q": sigma_q,
        "noise_share": noise_share,
        "meas_sd": noise_share * amplitude,
    }


def _sample_length(rng: np.random.Generator, prior: TrainingPrior) -> int:
    if rng.random() < prior.typical_length_probability:
        return int(rng.integers(prior.typical_length[0], prior.typical_length[1] + 1))
    return int(round(_log_uniform(rng, prior.length, 1)[0]))


def _punch_gaps(rng: np.random.Generator, y: np.ndarray, prior: TrainingPrior) -> np.ndarray:
    """Set random interior runs to NaN in a share of the rows (first and last kept)."""
    n_series, length = y.shape
    for row in np.flatnonzero(rng.random(n_series) < prior.gap_probability):
        for _ in range(int(rng.integers(1, prior.max_gaps + 1))):
            gap = int(rng.integers(1, prior.max_gap_length + 1))
            start = int(rng.integers(1, max(2, length - gap - 1)))
            y[row, start : min(start + gap, length - 1)] = np.nan
    return y


def simulate_training_batch(
    rng: np.random.Generator, n: int, prior: TrainingPrior, length: int | None = None
) -> dict[str, np.ndarray]:
    """Simulate one batch of equal-length series with their targets.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Series in the batch.
    prior : TrainingPrior
    length : int, optional
        Frames per series; drawn from the prior when omitted.

    Returns
    -------
    dict of str to numpy.ndarray
        ``inputs`` (n, 2, length) float32 network inputs, ``log_length`` (n,),
        ``targets`` (n, 3) transformed parameters ``log(-eta)``, ``log(-zeta)``,
        ``log(sigma_q / sd)``, ``noise_target`` (n,), ``noise_share`` (n,) and the
        frame-unit ``eta``, ``zeta``, ``sigma_q``, ``log_scale``.

    Examples
    --------
    >>> batch = simulate_training_batch(np.random.default_rng(0), 4, TrainingPrior(), 60)
    >>> batch["inputs"].shape, batch["targets"].shape
    ((4, 2, 60), (4, 3))
    """
    if length is None:
        length = _sample_length(rng, prior)
    draws = sample_parameters(rng, n, prior)
    simulation = simulate_dlo(
        draws["eta"],
        draws["zeta"],
        draws["sigma_q"],
        n_steps=length,
        dt=1.0,
        n_series=n,
        meas_sd=draws["meas_sd"],
        seed=rng,
    )
    y = _punch_gaps(rng, simulation.y, prior)
    prepared = prepare_series(y)
    targets = np.stack(
        [
            np.log(-draws["eta"]),
            np.log(-draws["zeta"]),
            np.log(draws["sigma_q"]) - prepared.log_scale,
        ],
        axis=1,
    )
    return {
        "inputs": prepared.inputs,
        "log_length": prepared.log_length,
        "statistics": prepared.statistics,
        "targets": targets.astype(np.float32),
        "noise_target": np.log(_NOISE_OFFSET + draws["noise_share"]).astype(np.float32),
        "noise_share": draws["noise_share"],
        "eta": draws["eta"],
        "zeta": draws["zeta"],
        "sigma_q": draws["sigma_q"],
        "log_scale": prepared.log_scale,
    }


def _normalisation(prior: TrainingPrior, seed: int) -> dict[str, list[float]]:
    """Means and sds of the transformed targets and of the statistics under the prior.

    From a pilot sample of lengths drawn like the training batches'.
    """
    rng = np.random.default_rng([seed, 99])
    batches = [simulate_training_batch(rng, 256, prior) for _ in range(16)]
    targets = np.concatenate([batch["targets"] for batch in batches]).astype(float)
    statistics = np.concatenate([batch["statistics"] for batch in batches]).astype(float)
    return {
        "target_center": targets.mean(axis=0).tolist(),
        "target_scale": targets.std(axis=0).tolist(),
        "statistics_center": statistics.mean(axis=0).tolist(),
        # A floor keeps a statistic that happens to be constant in the pilot finite.
        "statistics_scale": np.maximum(statistics.std(axis=0), 1e-6).tolist(),
    }


def _implied_autocorrelation(log_neg_eta: torch.Tensor, log_neg_zeta: torch.Tensor, lags: torch.Tensor) -> torch.Tensor:
    """Autocorrelation of x at integer lags for frame-unit (eta, zeta), any damping.

    ``rho(k) = exp(-a k) (C(k) + a S(k))`` with ``a = -zeta / 2``, ``w^2 = -eta - a^2``,
    ``C = cos(w k)``, ``S = sin(w k) / w`` when oscillating and cosh/sinh otherwise.
    """
    half_damping = torch.exp(log_neg_zeta)[:, None] / 2.0
    squared = torch.exp(log_neg_eta)[:, None] - half_damping**2
    k = lags[None, :]
    # Both branches get safe arguments so gradients stay finite through torch.where.
    omega = torch.sqrt(squared.clamp(min=1e-8))
    growth = torch.sqrt((-squared).clamp(min=1e-8)).clamp(max=half_damping * 0.999)
    oscillating = torch.exp(-half_damping * k) * (torch.cos(omega * k) + half_damping * torch.sin(omega * k) / omega)
    decaying = 0.5 * (
        (1.0 + half_damping / growth) * torch.exp((growth - half_damping) * k)
        + (1.0 - half_damping / growth) * torch.exp(-(growth + half_damping) * k)
    )
    return torch.where(squared > 0, oscillating, decaying)


def _sample_autocovariance(standardised: torch.Tensor, lags: Sequence[int]) -> torch.Tensor:
    length = standardised.shape[1]
    return torch.stack(
        [(standardised[:, : length - lag] * standardised[:, lag:]).mean(dim=1) for lag in lags],
        dim=1,
    )


def _pearson_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    centred_p = prediction - prediction.mean(dim=0)
    centred_t = target - target.mean(dim=0)
    r = (centred_p * centred_t).sum(dim=0) / (centred_p.norm(dim=0) * centred_t.norm(dim=0) + 1e-8)
    return (1.0 - r).mean()


def interval_score(lower: torch.Tensor, upper: torch.Tensor, truth: torch.Tensor, alpha: float) -> torch.Tensor:
    """Interval score of central ``1 - alpha`` intervals (Gneiting & Raftery 2007, eq. 43).

    A proper scoring rule: its expectation is minimised by the ``alpha / 2`` and
    ``1 - alpha / 2`` quantiles of the truth's distribution.

    Parameters
    ----------
    lower, upper : torch.Tensor
        Interval bounds.
    truth : torch.Tensor
        True values (same shape).
    alpha : float
        One minus the nominal coverage.

    Returns
    -------
    torch.Tensor
        Width plus ``2 / alpha`` times the distance by which the truth falls outside.

    Examples
    --------
    >>> interval_score(torch.tensor([0.0]), torch.tensor([1.0]), torch.tensor([2.0]), 0.1)
    tensor([21.])
    """
    return (upper - lower) + (2.0 / alpha) * torch.relu(lower - truth) + (2.0 / alpha) * torch.relu(truth - upper)


def training_loss(
    net: DLONet,
    output: dict[str, torch.Tensor],
    batch: dict[str, torch.Tensor],
    weights: LossWeights,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its parts for one batch (see the module docstring).

    Parameters
    ----------
    net : DLONet
    output : dict of str to torch.Tensor
        The network's forward output.
    batch : dict of str to torch.Tensor
        ``inputs``, ``targets`` (transformed, not normalised) and ``noise_target``.
    weights : LossWeights

    Returns
    -------
    loss : torch.Tensor
        Scalar to minimise.
    parts : dict of str to float
        Each term's value, for logging.
    """
    target = (batch["targets"] - net.target_center) / net.target_scale
    squared_error = ((output["point"] - target) ** 2).mean()
    interval = interval_score(output["lower"], output["upper"], target, _ALPHA).mean()
    correlation = _pearson_loss(output["point"], target)
    noise = ((output["log_noise"] - batch["noise_target"]) ** 2).mean()

    transformed = net.transformed(output["point"])
    implied_variance = torch.exp(2.0 * transformed[:, 2] - transformed[:, 0] - transformed[:, 1]) / 2.0
    noise_share = torch.relu(torch.exp(output["log_noise"]) - _NOISE_OFFSET)
    lags = torch.tensor(_PHYSICS_LAGS, dtype=transformed.dtype)
    implied = implied_variance[:, None] * torch.cat(
        [
            (1.0 + noise_share**2)[:, None],
            _implied_autocorrelation(transformed[:, 0], transformed[:, 1], lags),
        ],
        dim=1,
    )
    observed = _sample_autocovariance(batch["inputs"][:, 0], (0, *_PHYSICS_LAGS))
    physics = ((implied - observed) ** 2).mean()

    loss = (
        squared_error
        + weights.interval * interval
        + weights.correlation * correlation
        + weights.noise * noise
        + weights.physics * physics
    )
    parts = {
        "mse": squared_error.item(),
        "interval": interval.item(),
        "correlation": correlation.item(),
        "noise": noise.item(),
        "physics": physics.item(),
    }
    return loss, parts


def _to_tensors(batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    keys = ("inputs", "log_length", "statistics", "targets", "noise_target")
    return {key: torch.from_numpy(np.ascontiguousarray(batch[key], dtype=np.float32)) for key in keys}


def _validation_sets(seed: int, n_per_condition: int) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Held-out sets from the supported range: T in {100, 300} x noise share in {0, 0.1}."""
    sets = []
    for condition, (length, noise) in enumerate([(100, 0.0), (100, 0.1), (300, 0.0), (300, 0.1)]):
        prior = TrainingPrior(
            supported_share=1.0,
            gap_probability=0.0,
            zero_noise_probability=0.0,
            noise_share=(noise, noise),
            supported_noise_share=(noise, noise),
        )
        rng = np.random.default_rng([seed, 7, condition])
        batch = simulate_training_batch(rng, n_per_condition, prior, length)
        sets.append((f"T={length},noise={noise}", batch))
    return sets


def _evaluate(net: DLONet, sets: list[tuple[str, dict[str, np.ndarray]]]) -> dict[str, Any]:
    """RMSE and 90 % coverage per condition and parameter on the transformed scale."""
    net.eval()
    report: dict[str, Any] = {}
    with torch.inference_mode():
        for name, batch in sets:
            tensors = _to_tensors(batch)
            output = net(tensors["inputs"], tensors["log_length"], tensors["statistics"])
            point = net.transformed(output["point"])
            lower = net.transformed(output["lower"])
            upper = net.transformed(output["upper"])
            truth = tensors["targets"]
            rmse = ((point - truth) ** 2).mean(dim=0).sqrt()
            covered = ((lower <= truth) & (truth <= upper)).float().mean(dim=0)
            report[name] = {
                parameter: {"rmse_transformed": round(float(rmse[i]), 4), "coverage": round(float(covered[i]), 3)}
                for i, parameter in enumerate(PARAMETERS)
            }
    net.train()
    return report


def train(
    out: str | Path,
    seed: int = 0,
    steps: int = 24000,
    batch_size: int = 128,
    learning_rate: float = 2e-3,
    weight_decay: float = 1e-4,
    warmup_steps: int = 200,
    threads: int = 1,
    prior: TrainingPrior | None = None,
    loss_weights: LossWeights | None = None,
    architecture: dict[str, Any] | None = None,
    log_every: int = 250,
    validation_size: int = 256,
    command: str | None = None,
) -> dict[str, Any]:
    """Train the network and write its weights and metadata to ``out``.

    Parameters
    ----------
    out : str or Path
        Output folder (created if needed).
    seed : int, default 0
        Seeds the simulation and the weight initialisation.
    steps : int, default 24000
        Optimiser steps (one freshly simulated batch each).
    batch_size : int, default 128
    learning_rate : float, default 2e-3
        Peak AdamW learning rate, reached after ``warmup_steps`` and cosine-annealed
        to 1 % of it at the last step.
    weight_decay : float, default 1e-4
    warmup_steps : int, default 200
    threads : int, default 1
        Torch CPU threads (recorded; results depend on it in the last bits).
    prior : TrainingPrior, optional
    loss_weights : LossWeights, optional
    architecture : dict, optional
        Keyword arguments of :class:`~pybridge.dlo.neural.DLONet`.
    log_every : int, default 250
        Steps between progress lines on stderr (and validation every 8 of them).
    validation_size : int, default 256
        Series per validation condition (T in {100, 300} x noise share in {0, 0.1},
        supported range, seeds disjoint from the training stream).
    command : str, optional
        The command line, recorded in the metadata.

    Returns
    -------
    dict
        The metadata written next to the weights.

    Raises
    ------
    InvalidInputError
        If a count is not positive.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:  # doctest: +SKIP
    ...     metadata = train(folder, steps=10, batch_size=8)
    """
    from safetensors.torch import save_file

    for name, value in (("steps", steps), ("batch_size", batch_size), ("threads", threads)):
        if int(value) < 1:
            raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
    prior = prior or TrainingPrior()
    loss_weights = loss_weights or LossWeights()
    architecture = dict(architecture or {})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    set_torch_threads(int(threads))
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, 1])
    normalisation: dict[str, Any] = _normalisation(prior, seed)
    net = DLONet(**architecture, **normalisation)
    net.train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    warmup = min(warmup_steps, max(steps - 1, 0))
    scheduler = torch.optim.lr_scheduler.SequentialLR(
        optimizer,
        [
            torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.05, total_iters=max(warmup, 1)),
            torch.optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=max(steps - warmup, 1), eta_min=learning_rate * 0.01
            ),
        ],
        milestones=[max(warmup, 1)],
    )
    validation = _validation_sets(seed, validation_size)

    started = time.perf_counter()
    running: dict[str, float] = {}
    for step in range(1, steps + 1):
        batch = _to_tensors(simulate_training_batch(rng, batch_size, prior))
        output = net(batch["inputs"], batch["log_length"], batch["statistics"])
        loss, parts = training_loss(net, output, batch, loss_weights)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        for key, part in parts.items():
            running[key] = running.get(key, 0.0) + part / log_every
        if step % log_every == 0 or step == steps:
            elapsed = time.perf_counter() - started
            summary = " ".join(f"{key}={value:.4f}" for key, value in running.items())
            print(
                f"step {step}/{steps} {elapsed / 60:.1f} min lr={scheduler.get_last_lr()[0]:.2e} {summary}",
                file=sys.stderr,
                flush=True,
            )
            running = {}
        if step % (log_every * 8) == 0:
            print(json.dumps(_evaluate(net, validation)), file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started

    net.eval()
    state = {key: value.detach().contiguous() for key, value in net.state_dict().items()}
    save_file(state, str(out / WEIGHTS_FILE), metadata={"format": "pt", "model": "DLONet"})
    metadata = {
        "model": "DLONet (1-D CNN -> LSTM -> heads for eta, zeta, sigma_q)",
        "architecture": net.config,
        "interval_level": INTERVAL_LEVEL,
        "parameters": list(PARAMETERS),
        "transformed_targets": [
            "log(-eta * dt^2)",
            "log(-zeta * dt)",
            "log(sigma_q * dt^1.5 / sd(series))",
        ],
        "target_center": normalisation["target_center"],
        "target_scale": normalisation["target_scale"],
        "training": {
            "command": command,
            "seed": seed,
            "steps": steps,
            "batch_size": batch_size,
            "series_seen": steps * batch_size,
            "optimizer": {"name": "AdamW", "learning_rate": learning_rate, "weight_decay": weight_decay},
            "schedule": {"warmup_steps": warmup, "name": "linear warm-up then cosine annealing to 1 %"},
            "gradient_clip_norm": 1.0,
            "threads": threads,
            "prior": asdict(prior),
            "loss_weights": asdict(loss_weights),
            "simulator": "pybridge.dlo.simulate.simulate_dlo (exact discretisation, stationary start)",
            "minutes": round(elapsed / 60, 2),
        },
        "validation": _evaluate(net, validation),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pybridge.dlo.train",
        description="Train the CNN-LSTM DLO parameter estimator on simulated series.",
    )
    parser.add_argument("--out", required=True, help="folder for the weights and metadata")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=24000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--log-every", type=int, default=250)
    parser.add_argument("--validation-size", type=int, default=256, help="series per validation condition")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point (see ``python -m pybridge.dlo.train --help``).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments; defaults to ``sys.argv[1:]``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    metadata = train(
        args.out,
        seed=args.seed,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        threads=args.threads,
        log_every=args.log_every,
        validation_size=args.validation_size,
        command="python -m pybridge.dlo.train " + " ".join(argv),
    )
    print(json.dumps(metadata["validation"], indent=2))
    print(f"trained in {metadata['training']['minutes']} min; weights in {args.out}")


if __name__ == "__main__":
    main()
