"""Run the R package once per test session, in its own ``Rscript`` process.

R embedded in this process (rpy2) must not start Python again through reticulate:
the process aborts at exit. So the R side runs in a child ``Rscript`` that saves its
results as ``.rds`` files, and the tests read them back with rpy2 and compare them
with the Python API on the same inputs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

SCRIPT = Path(__file__).parent / "scripts" / "r_side.R"
LABELS = ["happy", "sad face", "angry"]


def _require_r() -> str:
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail(
            "Rscript not found: the R parity tests need R with reticulate, jsonlite "
            "and rpy2 (bash .ci/install --test installs them)"
        )
    return rscript


def _install_r_package(library: Path) -> None:
    result = subprocess.run(
        ["R", "CMD", "INSTALL", "--no-test-load", "-l", str(library), str(REPO_ROOT / "rpkg")],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"R CMD INSTALL rpkg failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def r_inputs(tmp_path_factory, reference_fixtures):
    """Inputs of the parity runs, as Python values."""
    from pybridge import simulate_dlo
    from tests.helpers.media import make_face_video
    from tests.helpers.score_tables import all_faces_table
    from tests.helpers.tiny_models import build_tiny_clip

    folder = tmp_path_factory.mktemp("r-parity-inputs")
    from PIL import Image
    from skimage import data

    face = folder / "astronaut.png"
    Image.fromarray(data.astronaut()).save(face)
    blank = folder / "blank.png"
    Image.new("RGB", (64, 48), (120, 120, 120)).save(blank)
    series = simulate_dlo(-0.15, -0.1, 0.5, n_steps=120, n_series=2, meas_sd=0.1, seed=11).y
    rng = np.random.default_rng(3)
    dyn_columns = {"id": np.repeat(np.arange(1, 4), 60).astype(float)}
    base = simulate_dlo(-0.2, -0.1, 0.5, n_steps=60, n_series=12, seed=5).y.reshape(3, 4, 60)
    for position, name in enumerate(["happy", "joy", "sad", "angry"]):
        dyn_columns[name] = (base[:, position, :] + 0.3 * base[:, (position + 1) % 4, :]).reshape(-1)
    dyn_columns["joy"] = dyn_columns["joy"] + 0.01 * rng.standard_normal(180)
    return {
        "model": str(build_tiny_clip(folder / "tiny-clip", seed=0)),
        "images": [str(face), str(blank)],
        "labels": LABELS,
        "video": str(make_face_video(folder / "face.mp4")),
        "missing_video": str(folder / "no-such-video.mp4"),
        "nframes": 12,
        "ffreq": 1,
        "transforemotion": str(reference_fixtures / "transforemotion" / "simulate_video.json"),
        "series": series,
        "dt": 0.5,
        "dyn_data": dyn_columns,
        "all_faces": all_faces_table()[0],
    }


@pytest.fixture(scope="session")
def r_library(tmp_path_factory) -> Path:
    """A library folder with this checkout's R package installed (once per session)."""
    _require_r()
    library = tmp_path_factory.mktemp("r-library")
    _install_r_package(library)
    return library


def r_environment(library: Path) -> dict:
    """Environment of a child ``Rscript``: this Python for reticulate, the test library."""
    # One compute thread on both sides: float32 matrix products then add in the same
    # order in both processes, whatever the machine's load does to thread scheduling.
    return dict(
        os.environ,
        RETICULATE_PYTHON=sys.executable,
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        R_LIBS=os.pathsep.join([str(library), os.environ.get("R_LIBS", "")]).rstrip(os.pathsep),
    )


@pytest.fixture(scope="session")
def r_results(tmp_path_factory, r_inputs, r_library):
    """Folder with the ``.rds`` results of ``scripts/r_side.R``."""
    rscript = _require_r()
    import rpy2.robjects as ro

    work = tmp_path_factory.mktemp("r-parity")
    library = r_library

    values = dict(r_inputs)
    series = values.pop("series")
    dyn_data = values.pop("dyn_data")
    all_faces = values.pop("all_faces")
    r_list = {
        key: ro.StrVector(value)
        if isinstance(value, list)
        else ro.StrVector([value])
        if isinstance(value, str)
        else ro.FloatVector([value])
        for key, value in values.items()
    }
    r_list["nframes"] = ro.IntVector([values["nframes"]])
    r_list["ffreq"] = ro.IntVector([values["ffreq"]])
    r_list["series"] = ro.r["matrix"](ro.FloatVector(series.ravel()), nrow=series.shape[0], byrow=True)
    r_list["dyn_data"] = ro.DataFrame({name: ro.FloatVector(column) for name, column in dyn_data.items()})
    r_list["all_faces"] = _r_data_frame(all_faces)
    inputs = work / "inputs.rds"
    ro.r["saveRDS"](ro.ListVector(r_list), str(inputs))

    out = work / "out"
    out.mkdir()
    result = subprocess.run(
        [rscript, str(SCRIPT), str(inputs), str(out)], env=r_environment(library), capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.fail(f"{SCRIPT.name} failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    return out


def _r_data_frame(frame):
    """pandas -> R data.frame, keeping the column order; None in text columns becomes NA."""
    import pandas as pd
    import rpy2.rinterface as ri
    import rpy2.robjects as ro

    columns = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            columns[name] = ro.BoolVector(column.tolist())
        elif pd.api.types.is_numeric_dtype(column):
            columns[name] = ro.FloatVector(column.to_numpy(dtype=float))
        else:
            columns[name] = ro.StrVector([ri.NA_Character if pd.isna(v) else str(v) for v in column])
    return ro.DataFrame(columns)


@pytest.fixture(autouse=True)
def single_compute_thread():
    """The Python side of each comparison computes with one thread, like the R side."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
