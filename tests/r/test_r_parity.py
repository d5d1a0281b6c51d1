"""The R package gives the Python API's numbers and column names, and its error classes.

The R side runs once per session in a child ``Rscript`` (see ``conftest.py``); its
results are read back here with rpy2 and compared with the Python API on the same
inputs: identical column names, numbers within 1e-12 (in practice identical).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import pybridge
from pybridge.dlo.transforemotion import RecordedDraws
from tests.helpers.score_tables import LABELS as LABELS_ALL

from .conftest import LABELS

TOLERANCE = 1e-12


def read_rds(folder, name):
    import rpy2.robjects as ro

    return ro.r["readRDS"](str(folder / f"{name}.rds"))


def r_frame(value) -> pd.DataFrame:
    """R data.frame (rpy2 object) -> pandas, NA as None/NaN, names as in R."""
    import rpy2.rinterface as ri
    import rpy2.robjects as ro

    columns = {}
    for name in ro.r["names"](value):
        column = value.rx2(name)
        if isinstance(column, ro.vectors.StrVector):
            columns[name] = [None if item is ri.NA_Character else str(item) for item in column]
        elif isinstance(column, ro.vectors.BoolVector):
            columns[name] = [None if item is ri.NA_Logical else bool(item) for item in column]
        else:
            columns[name] = np.asarray(column, dtype=float)
    return pd.DataFrame(columns)


def assert_same_frame(r_result: pd.DataFrame, python_result: pd.DataFrame) -> None:
    assert list(r_result.columns) == list(python_result.columns)
    assert len(r_result) == len(python_result)
    for name in python_result.columns:
        expected = python_result[name]
        got = r_result[name]
        if pd.api.types.is_numeric_dtype(expected) and not pd.api.types.is_bool_dtype(expected):
            expected_values = expected.to_numpy(dtype=float)
            got_values = got.to_numpy(dtype=float)
            np.testing.assert_array_equal(np.isnan(got_values), np.isnan(expected_values), err_msg=name)
            finite = ~np.isnan(expected_values)
            difference = np.abs(got_values[finite] - expected_values[finite])
            assert difference.max(initial=0.0) <= TOLERANCE, name
        else:
            assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in expected], name


def test_image_scores_match_python(r_results, r_inputs):
    python = pybridge.image_scores(r_inputs["images"], LABELS, local_model_path=r_inputs["model"])
    r_result = r_frame(read_rds(r_results, "image_scores"))
    assert_same_frame(r_result, python)
    assert list(r_result.columns[-3:]) == LABELS
    assert r_result["face_found"].tolist() == [True, False]


def test_video_scores_match_python(r_results, r_inputs):
    python = pybridge.video_scores(
        r_inputs["video"],
        LABELS,
        nframes=r_inputs["nframes"],
        ffreq=r_inputs["ffreq"],
        local_model_path=r_inputs["model"],
    )
    r_result = r_frame(read_rds(r_results, "video_scores"))
    assert_same_frame(r_result, python)
    assert r_result["frame"].tolist() == list(range(12))


def fixture_cases(r_inputs):
    with open(r_inputs["transforemotion"], encoding="utf-8") as handle:
        return [case for case in json.load(handle)["cases"] if "error" not in case]


def test_simulate_video_with_r_draws_matches_python_with_the_same_draws(r_results, r_inputs):
    # R draws from its own generator after set.seed(); Python replays the variates
    # transforEmotion recorded for the same seed: the same draws, so the same table.
    cases = fixture_cases(r_inputs)
    assert len(cases) >= 6
    for case in cases:
        arguments = dict(case["args"])
        arguments["emph_dur"] = arguments.pop("emph.dur", 10)
        arguments["emph_prob"] = arguments.pop("emph.prob", 0.5)
        python = pybridge.simulate_video(**arguments, draws=RecordedDraws(case["draws"]))
        r_result = r_frame(read_rds(r_results, f"simulate_video_{case['name']}"))
        assert_same_frame(r_result, python)


def test_simulate_video_with_a_seed_matches_python(r_results, r_inputs):
    arguments = dict(fixture_cases(r_inputs)[0]["args"])
    python = pybridge.simulate_video(**arguments, seed=7)
    assert_same_frame(r_frame(read_rds(r_results, "simulate_video_seed7")), python)


@pytest.mark.parametrize("method", ["kalman", "glla"])
def test_estimate_dlo_matches_python(r_results, r_inputs, method):
    python = pybridge.estimate_dlo(r_inputs["series"], dt=r_inputs["dt"], method=method)
    r_result = r_frame(read_rds(r_results, f"estimate_{method}"))
    assert_same_frame(r_result, python)
    assert {"eta", "zeta", "sigma_q"} <= set(r_result.columns)


def test_dynega_wrapper_matches_python(r_results, r_inputs):
    import rpy2.robjects as ro

    python = pybridge.dynEGA(pd.DataFrame(r_inputs["dyn_data"]), seed=1, level=["population", "individual"])
    r_result = read_rds(r_results, "dynega")
    wc = r_result.rx2("wc")
    assert list(ro.r["names"](wc)) == list(python.population.wc.index)
    np.testing.assert_array_equal(np.asarray(wc, dtype=float), python.population.wc.to_numpy(dtype=float))
    network = np.asarray(r_result.rx2("network"))
    assert np.abs(network - python.population.network.to_numpy()).max() <= TOLERANCE
    assert abs(r_result.rx2("tefi")[0] - python.population.tefi) <= TOLERANCE
    assert_same_frame(r_frame(r_result.rx2("derivatives")), python.derivatives)


def test_dynega_matches_live_eganet(r_results, r_inputs):
    path = r_results / "dynega_eganet.rds"
    if not path.exists():
        pytest.skip(
            "EGAnet is not installed in R, so the live EGAnet comparison cannot run; "
            "pybridge's dynEGA is checked against stored EGAnet outputs in tests/dynamics"
        )
    import rpy2.robjects as ro

    live = read_rds(r_results, "dynega_eganet")
    python = pybridge.dynEGA(pd.DataFrame(r_inputs["dyn_data"]), seed=1)
    np.testing.assert_array_equal(np.asarray(live.rx2("wc"), dtype=float), python.population.wc.to_numpy(dtype=float))
    network = np.asarray(ro.r["unname"](live.rx2("network")))
    assert np.abs(network - python.population.network.to_numpy()).max() <= 1e-8


def test_errors_become_r_conditions_with_the_python_message(r_results, r_inputs):
    errors = read_rds(r_results, "errors")

    def condition(name):
        entry = errors.rx2(name)
        return list(entry.rx2("class")), entry.rx2("message")[0]

    classes, message = condition("unstable")
    assert classes == ["pybridge_unstable_parameters", "pybridge_invalid_input", "pybridge_error", "error", "condition"]
    with pytest.raises(pybridge.errors.UnstableParametersError) as python_error:
        pybridge.simulate_dlo(0.1, -0.05, 0.3, 10)
    assert message == str(python_error.value)

    classes, message = condition("unknown_model")
    assert classes[0] == "pybridge_unknown_model" and classes[-3:] == ["pybridge_error", "error", "condition"]
    with pytest.raises(pybridge.errors.UnknownModelError) as python_error:
        pybridge.image_scores(r_inputs["images"][:1], LABELS, model="no-such-model")
    assert message == str(python_error.value)

    classes, message = condition("missing_video")
    assert classes[0] == "pybridge_unreadable_video"
    assert "no-such-video.mp4" in message


def test_all_faces_table_with_track_ids_matches_python(r_results, r_inputs):
    """A face_selection="all" table with track ids: labels are the only emotions, one series per track."""
    table = r_inputs["all_faces"]
    python_dlo = pybridge.estimate_dlo(table, dt=0.2, method="kalman")
    r_dlo = r_frame(read_rds(r_results, "all_faces_dlo"))
    assert sorted(set(r_dlo["label"])) == sorted(LABELS_ALL)
    assert_same_frame(r_dlo, python_dlo)

    python = pybridge.dynEGA(table, seed=1, level=["population", "individual"], na_derivative="kalman")
    r_result = read_rds(r_results, "all_faces_dynega")
    assert list(r_result.rx2("variables")) == LABELS_ALL
    assert list(r_result.rx2("individual")) == ["a.mp4 track 0", "a.mp4 track 1", "b.mp4 track 7"]
    assert_same_frame(r_frame(r_result.rx2("derivatives")), python.derivatives)
