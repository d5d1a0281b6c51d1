"""estimate_dlo: input forms, score tables, method dispatch, per-series failures."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest

import pybridge
from pybridge.dlo import estimate_dlo, simulate_dlo
from pybridge.dlo.glla_regression import fit_dlo_glla
from pybridge.errors import InvalidInputError, MissingDependencyError, SeriesTooShortError


@pytest.fixture(scope="module")
def series():
    return simulate_dlo(-0.1, -0.2, 0.3, 200, n_series=3, seed=1).y


def test_public_api_reexports():
    assert pybridge.estimate_dlo is estimate_dlo
    assert pybridge.simulate_dlo is simulate_dlo
    assert callable(pybridge.simulate_video)


def test_input_forms_agree(series):
    one = estimate_dlo(series[0], method="glla")
    listed = estimate_dlo([series[0], series[1][:150]], method="glla")
    padded = series[:2].copy()
    padded[1, 150:] = np.nan  # trailing NaNs mark a shorter series
    matrix = estimate_dlo(padded, method="glla")
    assert list(one.columns[:4]) == ["series", "eta", "zeta", "sigma_q"]
    assert len(one) == 1 and len(listed) == len(matrix) == 2
    pd.testing.assert_frame_equal(listed, matrix)
    assert listed["n_obs"].tolist() == [200, 150]
    assert listed.loc[1, "eta"] == pytest.approx(fit_dlo_glla(series[1][:150]).eta, abs=0)
    assert one.loc[0, "eta"] == listed.loc[0, "eta"]


def test_kalman_columns_and_intervals(series):
    table = estimate_dlo(series[:1], dt=0.5, method="kalman")
    for column in (
        "eta",
        "zeta",
        "sigma_q",
        "meas_sd",
        "eta_se",
        "eta_lo",
        "eta_hi",
        "sigma_q_lo",
        "loglik",
        "n_obs",
        "converged",
    ):
        assert column in table.columns
    row = table.iloc[0]
    assert row.converged and row.eta_lo < row.eta < row.eta_hi < 0
    # per unit of time: dt = 0.5 scales eta by 1 / dt^2 against dt = 1
    frames = estimate_dlo(series[:1], dt=1.0, method="kalman").iloc[0]
    assert row.eta == pytest.approx(frames.eta * 4, rel=1e-3)
    assert row.zeta == pytest.approx(frames.zeta * 2, rel=1e-3)


def _scores_table(series):
    frames = np.arange(200)
    parts = []
    for video, offset in (("b.mp4", 0), ("a.mp4", 1)):
        part = pd.DataFrame(
            {
                "video": video,
                "frame": frames,
                "time_s": frames * 0.2,
                "face_found": True,
                "face_x": 1.0,
                "face_y": 2.0,
                "face_w": 3.0,
                "face_h": 4.0,
                "reason": "",
                "happy": series[offset] + 0.5,
                "sad": series[offset + 1] + 0.3,
            }
        )
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table.loc[10:14, ["happy", "sad"]] = np.nan  # frames without a face
    table.loc[10:14, "face_found"] = False
    return table


def test_video_scores_table_one_fit_per_video_and_label(series):
    table = _scores_table(series)
    result = estimate_dlo(table, dt=None, method="glla")
    assert result[["video", "label"]].values.tolist() == [
        ["b.mp4", "happy"],
        ["b.mp4", "sad"],
        ["a.mp4", "happy"],
        ["a.mp4", "sad"],
    ]
    expected = fit_dlo_glla(table.loc[table.video == "a.mp4", "sad"].to_numpy(), dt=0.2)
    assert result.iloc[3]["eta"] == pytest.approx(expected.eta, rel=1e-12)
    assert result.iloc[0]["n_obs"] == 195
    only = estimate_dlo(table.drop(columns="video"), method="glla", labels=["sad"])
    assert only["label"].tolist() == ["sad"]


def test_failures_named_or_reported(series):
    table = _scores_table(series)
    table.loc[table.video == "a.mp4", "sad"] = np.nan
    with pytest.raises(SeriesTooShortError, match="video 'a.mp4', label 'sad': the series has 0"):
        estimate_dlo(table, method="glla")
    result = estimate_dlo(table, method="kalman", on_error="nan", labels=["sad"])
    failed = result.iloc[1]
    assert np.isnan(failed.eta) and not failed.converged and failed.n_obs == 0
    assert "0 non-missing values" in failed.message
    assert result.iloc[0].converged


def test_constant_and_short_series_errors(series):
    with pytest.raises(InvalidInputError, match="series 1: the series is constant"):
        estimate_dlo([series[0], np.ones(50)], method="glla")
    with pytest.raises(SeriesTooShortError, match="series 0"):
        estimate_dlo(series[0][:15])


def test_neural_dispatch(monkeypatch, series):
    calls = []

    def fake_estimate_neural(series_list, dt):
        calls.append((len(series_list), dt))
        return pd.DataFrame(
            {"eta": [-1.0] * len(series_list), "zeta": -0.5, "sigma_q": 0.2, "n_obs": [len(s) for s in series_list]}
        )

    monkeypatch.setitem(
        sys.modules,
        "pybridge.dlo.neural",
        types.SimpleNamespace(estimate_neural=fake_estimate_neural),
    )
    result = estimate_dlo([series[0], series[1][:100]], dt=0.25, method="neural")
    assert calls == [(2, 0.25)]
    assert result["series"].tolist() == [0, 1] and result["n_obs"].tolist() == [200, 100]


def test_neural_missing_gives_clear_error(monkeypatch, series):
    monkeypatch.setitem(sys.modules, "pybridge.dlo.neural", None)
    with pytest.raises(MissingDependencyError, match="method='kalman'"):
        estimate_dlo(series[0], method="neural")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "ols"}, "method must be one of"),
        ({"on_error": "ignore"}, "on_error must be"),
        ({"dt": 0.0}, "dt must be a positive"),
        ({"dt": None}, "dt=None needs a scores table"),
        ({"labels": ["x"]}, "labels= only applies"),
    ],
)
def test_bad_arguments(series, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        estimate_dlo(series, **kwargs)


def test_bad_inputs():
    with pytest.raises(InvalidInputError, match="1-D or 2-D"):
        estimate_dlo(np.zeros((2, 2, 30)))
    with pytest.raises(InvalidInputError, match="empty"):
        estimate_dlo([])
    with pytest.raises(InvalidInputError, match="no numeric score columns"):
        estimate_dlo(pd.DataFrame({"frame": [1, 2], "reason": ["", ""]}))
    with pytest.raises(InvalidInputError, match="not in the table"):
        estimate_dlo(pd.DataFrame({"happy": np.arange(30.0)}), labels=["sad"])
