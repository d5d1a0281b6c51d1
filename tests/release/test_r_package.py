"""Release checks of the R package: its tarball passes ``R CMD check``, and installed
into an empty R library, ``setup_modules()`` without arguments installs this project's
Python package at the R package's version, even when the package index offers a
higher-versioned distribution called ``pybridge``.

The tarball is built by ``rpkg/tools/build-r-package.sh`` with the session's wheel
inside it (see ``conftest.py``). The R package's testthat suite runs inside the check
against the Python package of this checkout (tiny models built by the tests, no
network), so a failure there is a failure here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.release.conftest import (
    DISTRIBUTION,
    clean_environment,
    package_version,
    real_python,
    run,
)

pytestmark = [pytest.mark.release, pytest.mark.slow, pytest.mark.r]

DECOY_VERSION = "99.0"


def test_tarball_carries_the_wheel_of_its_own_version(r_tarball):
    version = package_version()
    assert r_tarball.name == f"pybridge_{version}.tar.gz"
    with tarfile.open(r_tarball) as archive:
        names = archive.getnames()
    assert f"pybridge/inst/python-package/pybridge_emotion-{version}-py3-none-any.whl" in names
    assert "pybridge/inst/python/pybridge_r_probe.py" in names
    assert not [name for name in names if name.startswith("pybridge/tools/")]


def test_r_cmd_check_of_the_tarball_is_clean(r_tarball, tmp_path):
    env = dict(os.environ)
    # The real interpreter, not a pyenv shim: reticulate must start this very Python.
    env["RETICULATE_PYTHON"] = real_python()
    env["PYBRIDGE_R_TESTS_REQUIRE_PYTHON"] = "true"
    env["_R_CHECK_FORCE_SUGGESTS_"] = "false"
    shutil.copy(r_tarball, tmp_path)
    check = subprocess.run(
        ["R", "CMD", "check", "--no-manual", r_tarball.name], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    log_file = tmp_path / "pybridge.Rcheck" / "00check.log"
    log = log_file.read_text() if log_file.exists() else check.stdout
    status = re.search(r"^Status: (.*)$", log, flags=re.MULTILINE)
    tests_out = tmp_path / "pybridge.Rcheck" / "tests" / "testthat.Rout.fail"
    detail = tests_out.read_text()[-4000:] if tests_out.exists() else ""
    assert status is not None, f"R CMD check did not finish:\n{check.stdout[-4000:]}\n{check.stderr[-2000:]}"
    assert "ERROR" not in status.group(1) and "WARNING" not in status.group(1), (
        f"R CMD check: {status.group(1)}\n{log[-6000:]}\n{detail}"
    )


def make_decoys(folder: Path, marker: Path) -> None:
    """Distributions a package index could offer at a higher version than this project's.

    ``pybridge`` (the unrelated project's name) as an sdist whose setup.py leaves
    ``marker`` when pip runs it and as a wheel whose module leaves it when imported, and
    ``pybridge_emotion`` at a higher version (setup_modules() must install the R
    package's own version, not the newest).
    """
    folder.mkdir()
    init = f"open({str(marker)!r}, 'a').write('decoy imported\\n')\n__version__ = {DECOY_VERSION!r}\n"
    for distribution in ("pybridge", "pybridge_emotion"):
        info = f"{distribution}-{DECOY_VERSION}.dist-info"
        with zipfile.ZipFile(folder / f"{distribution}-{DECOY_VERSION}-py3-none-any.whl", "w") as wheel:
            wheel.writestr("pybridge/__init__.py", init)
            wheel.writestr(
                f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {DECOY_VERSION}\n"
            )
            wheel.writestr(
                f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: decoy\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            )
            wheel.writestr(f"{info}/top_level.txt", "pybridge\n")
            wheel.writestr(f"{info}/RECORD", "")
    source = folder / f"pybridge-{DECOY_VERSION}"
    source.mkdir()
    (source / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: pybridge\nVersion: {DECOY_VERSION}\n")
    (source / "setup.py").write_text(
        f"open({str(marker)!r}, 'a').write('decoy setup.py ran\\n')\n"
        f"from setuptools import setup\nsetup(name='pybridge', version={DECOY_VERSION!r}, packages=[])\n"
    )
    with tarfile.open(folder / f"pybridge-{DECOY_VERSION}.tar.gz", "w:gz") as sdist:
        sdist.add(source, arcname=source.name)
    shutil.rmtree(source)


SETUP_SCRIPT = r"""
library(pybridge)
report <- setup_modules()
for (key in c("python", "envname", "version", "source", "created", "installed", "seconds")) {
  cat(key, "=", format(report[[key]]), "\n", sep = "")
}
"""


def test_setup_modules_installs_the_bundled_version_despite_decoys(r_tarball, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    run(["R", "CMD", "INSTALL", "--no-test-load", "-l", str(library), str(r_tarball)])
    decoys, marker = tmp_path / "decoys", tmp_path / "decoy-ran.txt"
    make_decoys(decoys, marker)
    script = tmp_path / "setup.R"
    script.write_text(SETUP_SCRIPT)
    workon = tmp_path / "virtualenvs"
    venv = workon / "pybridge"
    # The environment setup_modules() uses by default, new and empty. Its dependencies
    # come from this machine's site-packages (nothing is downloaded here); without a pip
    # of its own the machine's pip and setuptools serve it (the setuptools that Python
    # 3.11's ensurepip would put there is older than torch requires). setup_modules()
    # creating an environment itself is tested in rpkg/tests/testthat/test-setup.R.
    run([real_python(), "-m", "venv", "--system-site-packages", "--without-pip", str(venv)])
    python_bin = os.path.dirname(real_python())
    env = clean_environment(
        R_LIBS=str(library),
        R_LIBS_USER=str(tmp_path / "no-user-library"),
        WORKON_HOME=str(workon),
        # the only "index": a folder offering the decoys (next to this machine's wheels)
        PIP_FIND_LINKS=" ".join(filter(None, [str(decoys), os.environ.get("PIP_FIND_LINKS")])),
        PIP_NO_INDEX="1",
        PATH=os.pathsep.join([python_bin, os.environ["PATH"]]),
    )
    result = run(["Rscript", str(script)], env=env, cwd=tmp_path)
    report = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    version = package_version()
    print(
        f"\nsetup_modules(): {float(report['seconds']):.1f} s (created {report['created']}, "
        f"installed {report['installed']})"
    )

    assert report["version"] == version
    assert report["created"] == "FALSE" and report["installed"] == "TRUE"
    assert report["envname"] == "pybridge"
    assert Path(report["python"]).is_relative_to(venv)  # its bin/python links outside
    assert report["source"].endswith(f"pybridge/python-package/pybridge_emotion-{version}-py3-none-any.whl")
    assert "Installing" in result.stderr and DISTRIBUTION.replace("-", "_") in result.stderr

    # what the environment itself holds: this project at the R package's version, no decoy
    site = next((venv / "lib").glob("python3*/site-packages"))
    installed = sorted(path.name for path in site.glob("*.dist-info"))
    assert f"pybridge_emotion-{version}.dist-info" in installed
    assert not [name for name in installed if name.startswith("pybridge-")], installed
    assert not marker.exists(), marker.read_text()
    probe = run(
        [
            str(venv / "bin" / "python"),
            "-E",
            "-c",
            "import pybridge; print(pybridge.__version__, pybridge.PyBridgeError.__name__, pybridge.__file__)",
        ],
        env=env,
        cwd=tmp_path,
    )
    module_version, error_name, module_file = probe.stdout.split()
    assert (module_version, error_name) == (version, "PyBridgeError")
    assert Path(module_file).resolve().is_relative_to(site.resolve())
    assert not marker.exists()
