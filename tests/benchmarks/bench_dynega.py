"""dynEGA speed against EGAnet's published timings.

Run on demand: ``python tests/benchmarks/bench_dynega.py``. Prints wall-clock and CPU
times (CPU time is the fairer number on a shared machine) and their ratios to:

* EGAnet's published timing: population dynEGA on ~9 000 rows x 6 variables in about
  0.1 s; individual level with Louvain consensus for 40 ids in about 3 s;
* EGAnet 2.5.0 measured on this machine class when the fixtures were made
  (``tests/fixtures/eganet/README.md``): population dynEGA on sim.dynEGA
  (4 600 x 24 derivatives) 0.5-0.7 s; 100 individuals about 7 s.

Goal (issue 5): at most EGAnet's time for population, at most half of it for the
individual Louvain level.

``python tests/benchmarks/bench_dynega.py --parity`` instead prints the largest absolute
difference to every EGAnet fixture family (the tests assert < 1e-8).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pybridge.dynamics import dynEGA  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eganet"
EMOTIONS = ["anger", "disgust", "fear", "happiness", "sadness", "surprise"]


def emotion_series(n_ids: int, rows_per_id: int, seed: int = 0) -> pd.DataFrame:
    """Two latent random-walk factors driving six emotion scores, per id."""
    rng = np.random.default_rng(seed)
    loadings = np.array([[1, 0], [1, 0.2], [0.8, 0], [0, 1], [0.2, 1], [0, 0.9]])
    frames = []
    for unit in range(n_ids):
        latent = rng.normal(size=(rows_per_id, 2)).cumsum(axis=0) * 0.2
        scores = latent @ loadings.T + rng.normal(scale=0.5, size=(rows_per_id, 6))
        frame = pd.DataFrame(scores, columns=EMOTIONS)
        frame.insert(0, "video", f"clip{unit:03d}.mp4")
        frame.insert(1, "frame", np.arange(rows_per_id))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def timed(label: str, call, repeats: int = 3):
    call()  # warm-up: numba's cached machine code, BLAS threads, igraph import
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    wall, cpu = min(walls), min(cpus)
    print(f"{label:<58} wall {wall:7.3f} s   cpu {cpu:7.3f} s")
    return wall, cpu


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    population_data = emotion_series(40, 225)  # 9 000 rows x 6 variables
    wall, cpu = timed(
        "population dynEGA, 9000 x 6 (glasso, walktrap)",
        lambda: dynEGA(population_data, level="population", seed=1),
    )
    print(f"  ratio to EGAnet published 0.1 s: wall {wall / 0.1:.2f}, cpu {cpu / 0.1:.2f}")

    louvain_data = emotion_series(40, 100, seed=1)
    wall, cpu = timed(
        "individual dynEGA, 40 ids, Louvain consensus (1000 runs)",
        lambda: dynEGA(louvain_data, level="individual", algorithm="louvain", seed=1),
        repeats=1,
    )
    print(f"  ratio to EGAnet published 3 s: wall {wall / 3:.2f}, cpu {cpu / 3:.2f} (goal <= 0.5)")

    sim_path = FIXTURES / "sim_dynEGA.csv"
    if sim_path.exists():
        sim = pd.read_csv(sim_path)
        wall, cpu = timed(
            "sim.dynEGA population (4600 x 24 derivatives)",
            lambda: dynEGA(sim, level="population", seed=1),
        )
        print(f"  ratio to EGAnet on this machine 0.6 s: wall {wall / 0.6:.2f}, cpu {cpu / 0.6:.2f}")
        wall, cpu = timed(
            "sim.dynEGA individual, 100 ids (walktrap)",
            lambda: dynEGA(sim, level="individual", seed=1),
            repeats=1,
        )
        print(f"  ratio to EGAnet on this machine 7 s: wall {wall / 7:.2f}, cpu {cpu / 7:.2f}")


def _matrix(block):
    return np.array([[np.nan if v is None else v for v in row] for row in block["data"]], float)


def _vector(block):
    return np.array([np.nan if v is None else v for v in block.values()], float)


def _ega_error(result, expected) -> float:
    """Largest absolute error of an EGA result against a fixture block (NaN-aware)."""
    assert np.array_equal(result.wc.to_numpy(), _vector(expected["wc"]), equal_nan=True)
    errors = [abs(result.tefi - expected["TEFI"])]
    for name in ("network", "correlation"):
        if name in expected:
            errors.append(np.nanmax(np.abs(getattr(result, name).to_numpy() - _matrix(expected[name]))))
    if "lambda" in expected["network_methods"]:
        errors.append(abs(result.methods["lambda"] - expected["network_methods"]["lambda"]))
    return float(max(errors))


def parity() -> None:
    from pybridge.dynamics import EGA, glla, net_loads, net_scores

    folder = FIXTURES
    load = lambda name: json.loads((folder / name).read_text())  # noqa: E731
    sim = pd.read_csv(folder / "sim_dynEGA.csv")
    report = {}
    cases = load("glla_embed.json")["glla"]
    report["glla_embed.json (13 glla cases)"] = max(
        np.nanmax(
            np.abs(
                glla(
                    np.array([np.nan if v is None else v for v in c["x"]], float),
                    c["args"]["n.embed"],
                    c["args"]["tau"],
                    c["args"]["delta"],
                    c["args"]["order"],
                    c["args"]["na.derivative"],
                )
                - _matrix(c["result"])
            )
        )
        for c in cases
    )
    population = load("dynega_population.json")
    runs = {
        "derivatives_0": {"use_derivatives": 0},
        "derivatives_1": {},
        "derivatives_2": {"use_derivatives": 2},
        "derivatives_1_louvain": {"algorithm": "louvain"},
        "derivatives_1_TMFG": {"model": "TMFG"},
    }
    for key, kwargs in runs.items():
        result = dynEGA(sim, seed=1, **kwargs)
        errors = [_ega_error(result.population, population[key]["ega"])]
        if "EstimatesDF" in population[key]:
            for unit, rows in population[key]["EstimatesDF"]["all_rows_of_ids"].items():
                ours = result.derivatives[result.derivatives["id"] == unit].iloc[:, :24]
                errors.append(np.abs(ours.to_numpy() - _matrix(rows)).max())
        if "net.loads" in population[key]:
            for method in ("revised", "original"):
                loads = result.population.net_loads(method)
                for part in ("unstd", "std"):
                    expected = _matrix(population[key]["net.loads"][method][part])
                    errors.append(np.nanmax(np.abs(getattr(loads, part).to_numpy() - expected)))
        report[f"dynega_population.json {key}"] = max(errors)
    groups = load("dynega_group.json")
    result = dynEGA(sim, level="group", seed=1)
    report["dynega_group.json"] = max(_ega_error(result.group[g], e) for g, e in groups["groups"].items())
    individuals = load("dynega_individual.json")
    result = dynEGA(sim, level="individual", seed=1)
    report["dynega_individual.json (100 ids)"] = max(
        _ega_error(result.individual[i], e) for i, e in individuals["individuals"].items()
    )
    steps = load("ega_steps.json")
    derivatives = pd.read_csv(folder / "derivatives_d1.csv.gz")
    first = derivatives[derivatives["id"] == 1].iloc[:, :24]
    inputs = {"population": derivatives.iloc[:, :24], "individual_1": first, "rank_deficient": first.iloc[:20]}
    for block, data in inputs.items():
        expected = steps[block]
        ega = EGA(data, seed=1)
        errors = [
            _ega_error(ega, expected["EGA_walktrap"]["ega"]),
            np.abs(ega.correlation.to_numpy() - _matrix(expected["correlation"]["matrix"])).max(),
        ]
        for method in ("revised", "original"):
            loads = net_loads(ega, loading_method=method)
            for part in ("unstd", "std"):
                errors.append(
                    np.nanmax(np.abs(getattr(loads, part).to_numpy() - _matrix(expected["net.loads"][method][part])))
                )
        scores = net_scores(data, ega).to_numpy()
        rows = _matrix(expected["net.scores"].get("first_rows") or expected["net.scores"]["rows"])
        errors.append(np.abs(scores[: len(rows)] - rows).max())
        report[f"ega_steps.json {block}"] = max(errors)
    for name, error in report.items():
        print(f"{name:<52} max |diff| = {error:.2e}")


if __name__ == "__main__":
    parity() if "--parity" in sys.argv else main()
