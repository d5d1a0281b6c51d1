"""``R CMD check --no-manual`` of the R package: 0 errors, 0 warnings.

The package's testthat suite runs inside the check against the Python package of
this checkout (tiny models built by the tests, no network), so a failure there is a
failure here. The check runs in a temporary folder: ``R CMD build`` writes its
tarball into the working directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


def test_r_cmd_check_is_clean(tmp_path):
    if shutil.which("R") is None:
        pytest.fail("R not found: `bash .ci/install --test` installs it from Debian's packages")
    env = dict(os.environ)
    # The real interpreter, not a pyenv shim: reticulate must start this very Python.
    env["RETICULATE_PYTHON"] = os.path.realpath(sys.executable)
    env["PYBRIDGE_R_TESTS_REQUIRE_PYTHON"] = "true"
    env["_R_CHECK_FORCE_SUGGESTS_"] = "false"
    build = subprocess.run(
        ["R", "CMD", "build", "--no-build-vignettes", str(REPO_ROOT / "rpkg")],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert build.returncode == 0, f"R CMD build failed:\n{build.stdout}\n{build.stderr}"
    tarball = next(Path(tmp_path).glob("pybridge_*.tar.gz"))
    check = subprocess.run(
        ["R", "CMD", "check", "--no-manual", tarball.name],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )  # fmt: skip
    log_file = Path(tmp_path) / "pybridge.Rcheck" / "00check.log"
    log = log_file.read_text() if log_file.exists() else check.stdout
    status = re.search(r"^Status: (.*)$", log, flags=re.MULTILINE)
    tests_out = Path(tmp_path) / "pybridge.Rcheck" / "tests" / "testthat.Rout.fail"
    detail = tests_out.read_text()[-4000:] if tests_out.exists() else ""
    assert status is not None, f"R CMD check did not finish:\n{check.stdout[-4000:]}\n{check.stderr[-2000:]}"
    assert "ERROR" not in status.group(1) and "WARNING" not in status.group(1), (
        f"R CMD check: {status.group(1)}\n{log[-6000:]}\n{detail}"
    )
