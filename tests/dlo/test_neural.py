"""Tests of the neural DLO estimator with the shipped weights (fast)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pybridge.dlo.neural import (
    DEFAULT_WEIGHTS_DIR,
    METADATA_FILE,
    WEIGHTS_FILE,
    estimate_neural,
    load_dlo_net,
    prepare_series,
)
from pybridge.dlo.simulate import period_damping_to_eta_zeta, simulate_dlo
from pybridge.errors import InvalidInputError, ModelLoadError, SeriesTooShortError

DT = 0.25
COLUMNS = [
    "eta",
    "zeta",
    "sigma_q",
    "eta_lo",
    "eta_hi",
    "zeta_lo",
    "zeta_hi",
    "sigma_q_lo",
    "sigma_q_hi",
    "n_obs",
]


@pytest.fixture(scope="module")
def recovery_set():
    """64 series from the supported range (T = 300, dt = 0.25, no noise), fixed seed."""
    rng = np.random.default_rng(424242)
    n = 64
    period = rng.uniform(20.0, 60.0, n)
    ratio = rng.uniform(0.05, 0.6, n)
    sigma_q = rng.uniform(0.1, 1.0, n)
    eta, zeta = period_damping_to_eta_zeta(period, ratio, dt=DT)
    sim = simulate_dlo(eta, zeta, sigma_q, n_steps=300, dt=DT, n_series=n, seed=rng)
    truth = pd.DataFrame({"eta": eta, "zeta": zeta, "sigma_q": sigma_q})
    return sim.y, truth, estimate_neural(list(sim.y), dt=DT)


def _rmse(estimate, truth):
    return float(np.sqrt(np.mean((np.asarray(estimate) - np.asarray(truth)) ** 2)))


def test_shipped_weights_are_small_and_documented():
    weights = DEFAULT_WEIGHTS_DIR / WEIGHTS_FILE
    assert weights.is_file() and weights.stat().st_size < 5 * 1024**2
    metadata = json.loads((DEFAULT_WEIGHTS_DIR / METADATA_FILE).read_text())
    training = metadata["training"]
    assert training["command"].startswith("python -m pybridge.dlo.train")
    assert {"seed", "steps", "prior", "loss_weights", "optimizer", "minutes"} <= set(training)
    assert metadata["interval_level"] == 0.9


def test_recovers_parameters_within_explicit_rmse_bounds(recovery_set):
    _, truth, table = recovery_set
    # measured with the shipped weights: 0.099, 0.106, 0.029 (constant guess: 0.50, 0.36, 0.25)
    bounds = {"eta": 0.14, "zeta": 0.15, "sigma_q": 0.05}
    for name, bound in bounds.items():
        rmse = _rmse(table[name], truth[name])
        constant = _rmse(truth[name].median(), truth[name])
        assert rmse < bound, (name, rmse)
        assert rmse < 0.65 * constant, (name, rmse, constant)


def test_output_is_admissible_with_ordered_intervals(recovery_set):
    y, _, table = recovery_set
    assert list(table.columns) == COLUMNS
    assert len(table) == len(y)
    assert (table["eta"] < 0).all() and (table["zeta"] < 0).all() and (table["sigma_q"] > 0).all()
    for name in ("eta", "zeta", "sigma_q"):
        assert (table[f"{name}_lo"] <= table[name]).all()
        assert (table[name] <= table[f"{name}_hi"]).all()
    assert (table["n_obs"] == 300).all()


def test_intervals_cover_roughly_ninety_percent(recovery_set):
    _, truth, table = recovery_set
    for name in ("eta", "zeta", "sigma_q"):
        covered = ((table[f"{name}_lo"] <= truth[name]) & (truth[name] <= table[f"{name}_hi"])).mean()
        assert 0.75 <= covered <= 1.0, (name, covered)


def test_estimates_convert_exactly_between_time_units(recovery_set):
    y, _, per_quarter = recovery_set
    per_frame = estimate_neural(list(y[:8]), dt=1.0)
    np.testing.assert_allclose(per_quarter["eta"][:8], per_frame["eta"] / DT**2, rtol=1e-6)
    np.testing.assert_allclose(per_quarter["zeta"][:8], per_frame["zeta"] / DT, rtol=1e-6)
    np.testing.assert_allclose(per_quarter["sigma_q"][:8], per_frame["sigma_q"] / DT**1.5, rtol=1e-6)


def test_scale_and_level_equivariance(recovery_set):
    y, _, table = recovery_set
    moved = estimate_neural([10.0 * series + 3.0 for series in y[:8]], dt=DT)
    np.testing.assert_allclose(moved["eta"], table["eta"][:8], rtol=1e-4)
    np.testing.assert_allclose(moved["zeta"], table["zeta"][:8], rtol=1e-4)
    np.testing.assert_allclose(moved["sigma_q"], 10.0 * table["sigma_q"][:8], rtol=1e-4)
    np.testing.assert_allclose(moved["sigma_q_hi"], 10.0 * table["sigma_q_hi"][:8], rtol=1e-4)


def test_input_forms_and_mixed_lengths(recovery_set):
    y, _, table = recovery_set
    single = estimate_neural(y[0], dt=DT)
    matrix = estimate_neural(y[:3], dt=DT)
    as_list = estimate_neural([y[0].tolist(), y[1][:120], y[2]], dt=DT)
    assert len(single) == 1 and len(matrix) == 3
    np.testing.assert_allclose(single["eta"], table["eta"][:1], rtol=1e-5)
    np.testing.assert_allclose(matrix["zeta"], table["zeta"][:3], rtol=1e-5)
    assert as_list["n_obs"].tolist() == [300, 120, 300]
    np.testing.assert_allclose(as_list["eta"][[0, 2]], table["eta"][[0, 2]], rtol=1e-5)


def test_nan_handling_trims_ends_and_interpolates_gaps(recovery_set):
    y, _, table = recovery_set
    padded = np.concatenate([[np.nan] * 5, y[0], [np.nan] * 7])
    trimmed = estimate_neural([padded], dt=DT)
    np.testing.assert_allclose(trimmed["eta"], table["eta"][:1], rtol=1e-5)
    assert trimmed["n_obs"].iloc[0] == 300

    gappy = y[0].copy()
    gappy[100:106] = np.nan
    result = estimate_neural([gappy], dt=DT)
    assert result["n_obs"].iloc[0] == 294
    assert abs(np.log(result["eta"].iloc[0] / table["eta"].iloc[0])) < 0.15

    batch = prepare_series(gappy[None, :])
    assert batch.inputs[0, 1, 100:106].tolist() == [0.0] * 6
    assert np.all(np.isfinite(batch.inputs))


@pytest.mark.parametrize(
    "series, error, match",
    [
        (np.array(["a"] * 100), InvalidInputError, "dtype"),
        (np.ones(100, dtype=complex), InvalidInputError, "dtype"),
        (np.ones(100, dtype=bool), InvalidInputError, "dtype"),
        (np.full(100, 2.5), InvalidInputError, "constant"),
        (np.arange(49.0), SeriesTooShortError, "at least 50"),
        (np.arange(1001.0), InvalidInputError, "at most 1000"),
        (np.where(np.arange(100) % 3 == 1, np.nan, np.sin(np.arange(100.0))), InvalidInputError, "missing"),
        (np.full(80, np.nan), SeriesTooShortError, "0 observed"),
        (np.r_[np.sin(np.arange(99.0)), np.inf], InvalidInputError, "infinite"),
        (np.zeros((2, 2, 60)), InvalidInputError, "1-D"),
    ],
)
def test_bad_series_raise_typed_errors(series, error, match):
    with pytest.raises(error, match=match):
        estimate_neural([series] if series.ndim < 3 else series, dt=DT)


def test_bad_arguments_raise_typed_errors(recovery_set):
    y, _, _ = recovery_set
    with pytest.raises(InvalidInputError, match="dt"):
        estimate_neural([y[0]], dt=0.0)
    with pytest.raises(InvalidInputError, match="no series"):
        estimate_neural([], dt=DT)
    with pytest.raises(InvalidInputError, match="batch_size"):
        estimate_neural([y[0]], dt=DT, batch_size=0)
    with pytest.raises(InvalidInputError, match="series 1"):
        estimate_neural([y[0], np.ones(10)], dt=DT)


def test_missing_weights_raise_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="train one"):
        load_dlo_net(tmp_path)


def test_training_command_writes_loadable_weights(tmp_path):
    from pybridge.dlo.train import main

    main(
        [
            "--out",
            str(tmp_path),
            "--seed",
            "3",
            "--steps",
            "2",
            "--batch-size",
            "8",
            "--log-every",
            "1",
            "--validation-size",
            "16",
        ]
    )
    metadata = json.loads((tmp_path / METADATA_FILE).read_text())
    assert metadata["training"]["seed"] == 3 and metadata["training"]["steps"] == 2
    assert metadata["training"]["command"].endswith("--log-every 1 --validation-size 16")
    assert (tmp_path / WEIGHTS_FILE).stat().st_size < 5 * 1024**2
    series = simulate_dlo(-0.5, -0.3, 0.5, n_steps=120, dt=DT, seed=0).y[0]
    table = estimate_neural([series], dt=DT, weights_dir=tmp_path)
    assert (table["eta"] < 0).all() and np.isfinite(table.drop(columns="n_obs").to_numpy()).all()


def test_training_batches_are_seeded_and_well_formed():
    from pybridge.dlo.train import TrainingPrior, simulate_training_batch

    first = simulate_training_batch(np.random.default_rng(5), 16, TrainingPrior(gap_probability=1.0), 80)
    again = simulate_training_batch(np.random.default_rng(5), 16, TrainingPrior(gap_probability=1.0), 80)
    np.testing.assert_array_equal(first["inputs"], again["inputs"])
    assert first["inputs"].shape == (16, 2, 80) and np.isfinite(first["inputs"]).all()
    assert (first["inputs"][:, 1].min(axis=1) == 0).all()  # every series got a gap
    assert (first["inputs"][:, 1, [0, -1]] == 1).all()  # ends stay observed
    np.testing.assert_allclose(first["targets"][:, 0], np.log(-first["eta"]), rtol=1e-6)


def test_band_powers_show_the_measurement_noise_floor():
    from pybridge.dlo.neural import N_STATISTICS, SPECTRUM_BAND_EDGES

    eta, zeta = period_damping_to_eta_zeta(np.array([30.0]), np.array([0.3]), dt=1.0)
    sigma_q = np.sqrt(2.0 * eta * zeta)  # stationary sd 1
    clean = simulate_dlo(eta, zeta, sigma_q, n_steps=200, dt=1.0, n_series=32, seed=1).y
    noisy = clean + 0.1 * np.random.default_rng(2).standard_normal(clean.shape)
    n_bands = len(SPECTRUM_BAND_EDGES) - 1
    clean_bands = prepare_series(clean).statistics[:, -n_bands:] * 10.0
    noisy_bands = prepare_series(noisy).statistics[:, -n_bands:] * 10.0
    assert prepare_series(clean).statistics.shape == (32, N_STATISTICS)
    # The peak's band (period 30 frames) is the same; the top band is lifted by the
    # noise floor (power 0.01 against the oscillator's ~1e-4 there) in every series.
    peak = np.searchsorted(SPECTRUM_BAND_EDGES, 1 / 30) - 1
    np.testing.assert_allclose(noisy_bands[:, peak], clean_bands[:, peak], atol=0.1)
    assert (noisy_bands[:, -1] - clean_bands[:, -1] > 2.0).all()
    # Lengths that leave low bands without a Fourier frequency still give finite values.
    assert np.isfinite(prepare_series(clean[:, :50]).statistics).all()


def test_statistics_are_standardised_with_the_stored_moments():
    import torch

    from pybridge.dlo.neural import N_STATISTICS, DLONet

    net, _ = load_dlo_net()
    assert net.statistics_center.shape == (N_STATISTICS,)
    assert (net.statistics_scale > 0).all()
    statistics = torch.randn(4, N_STATISTICS)
    expected = (statistics - net.statistics_center) / net.statistics_scale
    torch.testing.assert_close(net.standardise_statistics(statistics), expected)
    with pytest.raises(InvalidInputError, match=f"need {N_STATISTICS} values"):
        DLONet(statistics_center=[0.0] * 3, statistics_scale=[1.0] * 3)
