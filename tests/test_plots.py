"""Figures: each renders to a PNG file, draws what it says, and rejects bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from PIL import Image

from pybridge.errors import InvalidInputError
from pybridge.plots import (
    dlo_autocorrelation,
    plot_dlo_autocorrelation,
    plot_dlo_intervals,
    plot_emotion_series,
    plot_network,
    plot_network_scores,
    plot_recovery,
)

LABELS = ["happy", "sad", "neutral"]


def _assert_png(path: Path, min_width: int = 300) -> None:
    assert path.is_file()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        width, height = image.size
        assert width >= min_width and height >= 200
        # a blank canvas would be one colour
        assert len(image.convert("L").getcolors(maxcolors=1 << 16) or []) > 10


@pytest.fixture()
def video_scores_table() -> pd.DataFrame:
    """Two videos of 20 frames at 4 fps, probabilities summing to one, a face missing."""
    rng = np.random.default_rng(0)
    rows = []
    for video in ("clip_a.mp4", "clip_b.mp4"):
        raw = rng.dirichlet(np.ones(len(LABELS)), size=20)
        table = pd.DataFrame(raw, columns=LABELS)
        table.insert(0, "video", video)
        table.insert(1, "frame", np.arange(20))
        table.insert(2, "time_s", np.arange(20) / 4)
        table.insert(3, "face_found", True)
        table.insert(4, "face_x", 10)
        rows.append(table)
    scores = pd.concat(rows, ignore_index=True)
    scores.loc[[5, 6], LABELS] = np.nan
    scores.loc[[5, 6], "face_found"] = False
    return scores


def test_emotion_series_lines_per_video(tmp_path, video_scores_table):
    path = tmp_path / "series.png"
    fig = plot_emotion_series(video_scores_table, path=path, title="demo")
    assert isinstance(fig, Figure)
    _assert_png(path)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["clip_a.mp4", "clip_b.mp4"]
    # metadata columns (frame, face_x, face_found) are not drawn as emotions
    assert [line.get_label() for line in visible[0].get_lines()] == LABELS
    assert visible[0].get_xlabel() == "time (s)"
    np.testing.assert_allclose(visible[0].get_lines()[0].get_xdata(), np.arange(20) / 4)
    # the two frames without a face are shaded, not drawn as zeros
    assert any(patch.get_label() == "no face" for patch in visible[0].patches)
    assert np.isnan(visible[0].get_lines()[0].get_ydata()[5])


def test_emotion_series_stacked_by_frame(tmp_path, video_scores_table):
    path = tmp_path / "stacked.png"
    fig = plot_emotion_series(video_scores_table, labels=["sad", "happy"], x="frame", stacked=True, path=path)
    _assert_png(path)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "frame"
    assert [c.get_label() for c in ax.collections] == ["sad", "happy"]


def test_network_colours_nodes_by_community(tmp_path):
    names = ["happy", "surprise", "sad", "fear", "neutral"]
    weights = pd.DataFrame(0.0, index=names, columns=names)
    for a, b, w in [("happy", "surprise", 0.5), ("sad", "fear", 0.4), ("happy", "sad", -0.2)]:
        weights.loc[a, b] = weights.loc[b, a] = w

    class EGAResult:  # what dynEGA(...).population exposes
        network = weights
        wc = pd.Series([1, 1, 2, 2, np.nan], index=names)

    path = tmp_path / "network.png"
    fig = plot_network(EGAResult(), path=path, title="population")
    _assert_png(path)
    ax = fig.axes[0]
    nodes = ax.collections[0]
    colours = [tuple(c) for c in nodes.get_facecolors()]
    assert colours[0] == colours[1] != colours[2] == colours[3]
    assert colours[4] == to_rgba("#bdbdbd")
    edges = ax.get_lines()
    assert len(edges) == 3
    negative = [line for line in edges if line.get_linestyle() == "--"]
    assert len(negative) == 1
    assert max(line.get_linewidth() for line in edges) == pytest.approx(5.5)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["community 1", "community 2", "unassigned"]
    # the layout is deterministic
    again = plot_network(EGAResult())
    np.testing.assert_array_equal(nodes.get_offsets(), again.axes[0].collections[0].get_offsets())


def test_network_into_subfigure_axes_saves_and_returns_the_root_figure(tmp_path):
    # axes of a subfigure: the subfigure itself has no savefig, so the root figure is saved
    weights = np.array([[0.0, 0.5, 0.2], [0.5, 0.0, 0.3], [0.2, 0.3, 0.0]])
    root = Figure()
    left, _right = root.subfigures(1, 2)
    ax = left.add_subplot()
    path = tmp_path / "panel.png"
    fig = plot_network(weights, wc=[1, 1, 2], ax=ax, path=path, title="left panel")
    assert fig is root
    assert ax.get_title() == "left panel"
    _assert_png(path)
    assert len(ax.collections[0].get_offsets()) == 3


def test_network_bad_input():
    asymmetric = pd.DataFrame([[0, 0.3], [0.1, 0]], index=["a", "b"], columns=["a", "b"])
    with pytest.raises(InvalidInputError, match="not symmetric"):
        plot_network(asymmetric)
    square = pd.DataFrame([[0, 0.3], [0.3, 0]], index=["a", "b"], columns=["a", "b"])
    with pytest.raises(InvalidInputError, match="wc has 3 entries for 2 nodes"):
        plot_network(square, wc=[1, 1, 2])
    with pytest.raises(InvalidInputError, match="square DataFrame"):
        plot_network("network")
    with pytest.raises(InvalidInputError, match="NaN"):
        plot_network(square.where(square > 0))


def test_network_scores_per_community_and_id(tmp_path):
    rng = np.random.default_rng(1)
    scores = pd.DataFrame(
        {
            "id": np.repeat(["p1", "p2"], 30),
            "time_s": np.tile(np.arange(30) * 0.25, 2),
            "1": rng.normal(size=60),
            "2": rng.normal(size=60),
        }
    )
    path = tmp_path / "net_scores.png"
    fig = plot_network_scores(scores, x="time_s", path=path)
    _assert_png(path)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["p1", "p2"]
    assert [line.get_label() for line in visible[0].get_lines()[:2]] == ["community 1", "community 2"]
    with pytest.raises(InvalidInputError, match=r"no column\(s\) \['seconds'\]"):
        plot_network_scores(scores, x="seconds")


def test_implied_autocorrelation_equals_closed_form():
    eta, zeta, dt = -0.6, -0.3, 0.25
    lags = np.arange(40)
    gamma = -zeta / 2
    omega = np.sqrt(-eta - gamma**2)
    tau = lags * dt
    closed = np.exp(-gamma * tau) * (np.cos(omega * tau) + gamma / omega * np.sin(omega * tau))
    np.testing.assert_allclose(dlo_autocorrelation(eta, zeta, lags, dt), closed, atol=1e-12)
    noisy = dlo_autocorrelation(eta, zeta, lags, dt, noise_share=0.2)
    assert noisy[0] == 1.0
    np.testing.assert_allclose(noisy[1:], 0.8 * closed[1:], atol=1e-12)
    with pytest.raises(InvalidInputError, match="stable oscillator"):
        dlo_autocorrelation(0.1, -0.3, lags)


def test_dlo_autocorrelation_figure(tmp_path):
    from pybridge.dlo.simulate import simulate_dlo

    sim = simulate_dlo(-0.6, -0.3, 0.5, n_steps=400, n_series=2, dt=0.25, meas_sd=0.2, seed=3)
    estimates = pd.DataFrame(
        {
            "eta": [-0.6, -0.6],
            "zeta": [-0.3, -0.3],
            "sigma_q": [0.5, 0.5],
            "meas_sd": [0.2, 0.2],
            "label": ["happy", "sad"],
        }
    )
    path = tmp_path / "acf.png"
    fig = plot_dlo_autocorrelation(sim.y, estimates, dt=0.25, max_lag=30, path=path)
    _assert_png(path)
    ax = fig.axes[0]
    assert ax.get_title() == "happy"
    assert len(ax.patches) == 31  # bars for lags 0..30
    assert [line.get_label() for line in ax.get_lines()[:2]] == [
        "implied by the fit",
        "implied, with measurement noise",
    ]
    # the true parameters' implied ACF follows the observed one
    observed = np.array([bar.get_height() for bar in ax.patches])
    implied = ax.get_lines()[1].get_ydata()
    assert np.max(np.abs(observed - implied)) < 0.3
    with pytest.raises(InvalidInputError, match="got 2 series but 1 rows"):
        plot_dlo_autocorrelation(sim.y, estimates.iloc[:1])


def test_dlo_intervals_figure(tmp_path):
    estimates = pd.DataFrame(
        {
            "label": ["happy", "sad", "neutral"],
            "eta": [-0.5, -0.8, -1.0],
            "eta_lo": [-0.7, -1.0, -1.3],
            "eta_hi": [-0.3, -0.6, -0.8],
            "zeta": [-0.2, -0.3, -0.1],
            "zeta_lo": [-0.3, -0.5, -0.2],
            "zeta_hi": [-0.1, -0.2, -0.05],
            "sigma_q": [0.4, 0.5, 0.3],
        }
    )
    truth = estimates[["eta", "zeta", "sigma_q"]] * 1.1
    path = tmp_path / "intervals.png"
    fig = plot_dlo_intervals(estimates, truth=truth, path=path)
    _assert_png(path)
    assert len(fig.axes) == 3
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["happy", "sad", "neutral"]
    with pytest.raises(InvalidInputError, match=r"no column\(s\) \['omega'\]"):
        plot_dlo_intervals(estimates, parameters=["omega"])
    # a failed fit's runaway interval is cut at the edge instead of flattening the rest
    runaway = estimates.assign(eta_lo=[-0.7, -1.0, -1e10])
    low, high = plot_dlo_intervals(runaway, parameters=["eta"]).axes[0].get_xlim()
    assert -2.0 < low < -1.0 and -0.3 < high < 0.0


def test_recovery_scatter(tmp_path):
    rng = np.random.default_rng(2)
    truth = pd.DataFrame({"eta": rng.uniform(-2, -0.2, 50), "zeta": rng.uniform(-1, -0.1, 50)})
    estimates = truth + rng.normal(scale=0.1, size=truth.shape)
    estimates["eta_lo"], estimates["eta_hi"] = estimates["eta"] - 0.2, estimates["eta"] + 0.2
    path = tmp_path / "recovery.png"
    fig = plot_recovery(truth, estimates, parameters=["eta", "zeta"], path=path)
    _assert_png(path)
    text = fig.axes[0].texts[0].get_text()
    rmse = np.sqrt(np.mean((estimates["eta"] - truth["eta"]) ** 2))
    assert f"RMSE = {rmse:.3g}" in text
    coverage = np.mean(np.abs(estimates["eta"] - truth["eta"]) <= 0.2)
    assert f"coverage = {coverage:.2f}" in text
    assert "coverage" not in fig.axes[1].texts[0].get_text()  # zeta has no interval
    with pytest.raises(InvalidInputError, match="truth has 50 rows but estimates has 10"):
        plot_recovery(truth, estimates.iloc[:10], parameters=["eta"])


def test_saving_to_pdf_and_nested_folder(tmp_path, video_scores_table):
    path = tmp_path / "nested" / "series.pdf"
    plot_emotion_series(video_scores_table, path=path)
    assert path.read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plot_emotion_series(pd.DataFrame()), "has no rows"),
        (lambda: plot_emotion_series([1, 2]), "must be a pandas DataFrame"),
        (lambda: plot_emotion_series(pd.DataFrame({"time_s": [0.0]})), "no numeric value columns"),
        (
            lambda: plot_emotion_series(pd.DataFrame({"time_s": [0.0], "happy": [1.0]}), x="seconds"),
            "x must be 'time_s'",
        ),
        (lambda: plot_emotion_series(pd.DataFrame({"time_s": [0.0], "happy": ["x"]}), labels=["happy"]), "not numeric"),
        (lambda: plot_emotion_series(pd.DataFrame({"video": range(30), "time_s": 0.0, "happy": 1.0})), "at most 24"),
    ],
)
def test_bad_tables(call, message):
    with pytest.raises(InvalidInputError, match=message):
        call()
