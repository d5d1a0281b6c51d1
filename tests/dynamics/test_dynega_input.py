"""dynEGA on pybridge's own video_scores output and on bad input."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from pybridge.dynamics import EGA, dynEGA
from pybridge.errors import (
    EstimationError,
    InvalidInputError,
    PyBridgeError,
    SeriesTooShortError,
)

EMOTIONS = ["anger", "fear", "joy", "sadness", "surprise", "neutral"]


def video_frame(n_frames=80, seed=0, video=None, missing=()):
    """A DataFrame shaped like ``video_scores`` output (two latent emotion factors)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_frames, 2)).cumsum(axis=0) * 0.3
    loadings = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 0.2], [0.2, 1]], dtype=float)
    scores = latent @ loadings.T + rng.normal(scale=0.4, size=(n_frames, 6))
    frame = pd.DataFrame(
        {
            "frame": np.arange(n_frames),
            "time_s": np.arange(n_frames) / 25,
            "face_found": True,
            "face_x": 10,
            "face_y": 12,
            "face_w": 50,
            "face_h": 50,
            "reason": "",
        }
    )
    for column, name in enumerate(EMOTIONS):
        frame[name] = scores[:, column]
    rows = list(missing)
    frame.loc[rows, "face_found"] = False
    frame.loc[rows, "reason"] = "no face"
    frame.loc[rows, EMOTIONS] = np.nan
    if video is not None:
        frame.insert(0, "video", video)
    return frame


def test_video_scores_frame_uses_only_the_label_columns():
    result = dynEGA(video_frame(), seed=1)
    assert result.methods["variables"] == EMOTIONS
    assert list(result.derivatives.columns) == [f"{e}.DerivOrd1" for e in EMOTIONS] + ["id", "group"]
    assert len(result.derivatives) == 80 - 4
    assert list(result.population.network.columns) == [f"{e}.DerivOrd1" for e in EMOTIONS]
    assert result.population.n == 76


def test_several_videos_are_several_ids():
    frames = pd.concat([video_frame(60, seed=s, video=f"clip{s}.mp4") for s in (1, 2, 3)], ignore_index=True)
    result = dynEGA(frames, level=["individual", "population"], seed=1)
    assert list(result.individual) == ["clip1.mp4", "clip2.mp4", "clip3.mp4"]
    assert result.methods["id_column"] == "video"
    assert len(result.derivatives) == 3 * 56
    assert result.population.n == 3 * 56
    # each individual's network is its own EGA on its 56 derivative rows
    first = result.derivatives[result.derivatives["id"] == "clip1.mp4"].iloc[:, :6]
    alone = EGA(first, seed=1)
    pd.testing.assert_frame_equal(result.individual["clip1.mp4"].network, alone.network)


def test_explicit_columns_and_id_argument():
    frames = pd.concat([video_frame(40, 1, "a"), video_frame(40, 2, "b")], ignore_index=True)
    frames = frames.rename(columns={"video": "participant"})
    result = dynEGA(frames, id="participant", columns=["anger", "fear", "joy", "sadness"], seed=1)
    assert result.methods["variables"] == ["anger", "fear", "joy", "sadness"]
    assert sorted(set(result.derivatives["id"])) == ["a", "b"]


def test_frames_without_a_face_follow_eganet_na_rules():
    frame = video_frame(80, missing=[30, 31])
    result = dynEGA(frame, seed=1)
    derivatives = result.derivatives.iloc[:, :6]
    # every window of 5 touching rows 30-31 is NaN (windows starting at 26..31)
    nan_rows = np.flatnonzero(derivatives.isna().all(axis=1).to_numpy())
    np.testing.assert_array_equal(nan_rows, np.arange(26, 32))
    assert result.population.n == 76  # NaN rows still count toward n (EGAnet)
    complete = dynEGA(frame, seed=1, na_derivative="skipover")
    assert complete.derivatives.iloc[:, :6].notna().all(axis=1).sum() > 76 - 6


def test_constant_series_gets_eganet_jitter():
    frame = video_frame(60)
    frame["fear"] = 0.25
    result = dynEGA(frame, seed=7)
    fear = result.derivatives["fear.DerivOrd1"].to_numpy()
    assert 0 < fear.std() < 0.003  # SD of the jitter is zero_jitter = 0.001
    again = dynEGA(frame, seed=7)
    np.testing.assert_array_equal(fear, again.derivatives["fear.DerivOrd1"].to_numpy())
    assert np.isfinite(result.population.network.to_numpy()).all()


def test_single_id_is_one_individual():
    frame = video_frame(50, video="only.mp4")
    result = dynEGA(frame, level=["individual", "population"], seed=1)
    assert list(result.individual) == ["only.mp4"]
    pd.testing.assert_frame_equal(result.individual["only.mp4"].network, result.population.network)


def test_missing_id_with_individual_level_warns():
    with pytest.warns(UserWarning, match="one individual"):
        dynEGA(video_frame(50), level="individual", seed=1)


def test_id_column_named_id_wins_over_the_argument(sim_dynega):
    subset = sim_dynega[sim_dynega["ID"].isin([1, 2])]
    result = dynEGA(subset, id="V1", level="individual", seed=1)
    assert sorted(result.individual) == ["1", "2"]
    assert "V1.DerivOrd1" in result.derivatives.columns


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: video_frame(4), SeriesTooShortError, "has 4 rows"),
        (lambda: video_frame(40).assign(joy=np.nan), InvalidInputError, "no observed values"),
        (lambda: video_frame(40).assign(note="x"), InvalidInputError, "non-numeric"),
        (
            lambda: pd.concat([video_frame(40)[["anger", "fear"]]] * 1, axis=1).set_axis(["anger", "anger"], axis=1),
            InvalidInputError,
            "duplicate",
        ),
        (lambda: video_frame(40)[["anger"]], InvalidInputError, "at least 2 variables"),
        (lambda: video_frame(40).to_numpy(), InvalidInputError, "DataFrame"),
    ],
)
def test_bad_data_raises_typed_errors(make, error, message):
    with pytest.raises(error, match=message):
        dynEGA(make(), seed=1)


def test_short_unit_error_names_the_id():
    frames = pd.concat([video_frame(40, 1, "long.mp4"), video_frame(3, 2, "short.mp4")])
    with pytest.raises(SeriesTooShortError, match="short.mp4"):
        dynEGA(frames, seed=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n_embed=2), "n_embed"),
        (dict(tau=4), "tau"),
        (dict(use_derivatives=3), "use_derivatives"),
        (dict(level="everything"), "level"),
        (dict(model="BGGM"), "model"),
        (dict(algorithm="spinglass"), "algorithm"),
        (dict(corr="kendall"), "corr"),
        (dict(na_derivative="drop"), "na_derivative"),
        (dict(id="nope"), "not found"),
        (dict(n_embed="5"), "number"),
        (dict(lambda_max=1), "unknown arguments"),
    ],
)
def test_bad_arguments_raise_invalid_input(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        dynEGA(video_frame(40), seed=1, **kwargs)


def test_an_individual_without_any_face_is_named_in_the_error():
    frames = pd.concat(
        [video_frame(40, 1, "ok.mp4"), video_frame(40, 2, "noface.mp4", missing=range(40))],
        ignore_index=True,
    )
    population = dynEGA(frames, seed=1)  # pairwise correlations: the population still works
    assert population.population.n == 72
    with pytest.raises(EstimationError, match="noface.mp4"):
        dynEGA(frames, level="individual", seed=1)


def test_constant_column_in_plain_ega_is_an_estimation_error():
    data = np.random.default_rng(0).normal(size=(50, 4))
    data[:, 2] = 1.0
    with pytest.raises(EstimationError, match="undefined"):
        EGA(data)


def test_errors_are_pybridge_errors():
    with pytest.raises(PyBridgeError):
        dynEGA(video_frame(3), seed=1)


def test_result_to_dict_is_json_serialisable():
    frames = pd.concat([video_frame(40, 1, "a"), video_frame(40, 2, "b")], ignore_index=True)
    result = dynEGA(frames, level=["population", "individual"], seed=1)
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["population"]["n_dim"] == result.population.n_dim
    assert set(payload["individual"]) == {"a", "b"}
    assert len(payload["derivatives"]["id"]) == len(result.derivatives)


def test_plot_colours_nodes_by_community_and_widths_by_weight():
    matplotlib.use("Agg")
    result = dynEGA(video_frame(200), seed=1).population
    figure = result.plot()
    axes = figure.axes[0]
    nodes = axes.collections[0]
    colours = {tuple(c) for c in nodes.get_facecolors()}
    assert len(colours) == result.n_dim
    widths = [line.get_linewidth() for line in axes.lines]
    upper = np.triu(result.network.to_numpy(), 1)
    assert len(widths) == int((upper != 0).sum())
    strongest = np.abs(upper).max()
    assert max(widths) == pytest.approx(0.5 + 5 * strongest / strongest)
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_seedless_runs_still_work():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = dynEGA(video_frame(60))
    assert result.population.n_dim >= 1
