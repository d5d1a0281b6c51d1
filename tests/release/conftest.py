"""Release artefacts, built once per test session: the sdist and wheel of the Python
package (``python -m build``) and the R package's tarball with that wheel inside it
(``rpkg/tools/build-r-package.sh``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

DISTRIBUTION = "pybridge-emotion"


def package_version() -> str:
    """The Python package's version, read from ``pybridge/__init__.py`` (its one declaration)."""
    text = (REPO_ROOT / "pybridge" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"$', text, flags=re.MULTILINE).group(1)


def r_package_version() -> str:
    """The R package's version (``rpkg/DESCRIPTION``)."""
    text = (REPO_ROOT / "rpkg" / "DESCRIPTION").read_text(encoding="utf-8")
    return re.search(r"^Version:\s*(\S+)$", text, flags=re.MULTILINE).group(1)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command, failing the test with its output when it fails."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command))} exited {result.returncode}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def clean_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without what points Python at the checkout."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "RETICULATE_PYTHON", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.update(overrides)
    return env


def real_python() -> str:
    """This interpreter's real path (not a pyenv shim)."""
    return os.path.realpath(sys.executable)


@pytest.fixture(scope="session")
def distributions(tmp_path_factory) -> dict[str, Path]:
    """``python -m build``: the sdist and the wheel, in a temporary folder."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)])
    built = {"sdist": list(out.glob("*.tar.gz")), "wheel": list(out.glob("*.whl"))}
    assert all(len(paths) == 1 for paths in built.values()), f"python -m build made {sorted(out.iterdir())}"
    return {kind: paths[0] for kind, paths in built.items()}


@pytest.fixture(scope="session")
def r_tarball(tmp_path_factory, distributions) -> Path:
    """The R package's source tarball with the session's wheel bundled in it."""
    if shutil.which("R") is None:
        pytest.fail("R not found: `bash .ci/install --test` installs it from Debian's packages")
    out = tmp_path_factory.mktemp("r-build")
    result = run(
        ["bash", str(REPO_ROOT / "rpkg" / "tools" / "build-r-package.sh"), str(out), str(distributions["wheel"])]
    )
    tarball = Path(result.stdout.strip().splitlines()[-1])
    assert tarball.is_file(), result.stdout + result.stderr
    return tarball
