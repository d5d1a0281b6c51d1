"""Release checks of the Python package: its name, its metadata, and a clean install.

The distribution is ``pybridge-emotion`` (``pybridge`` on the package index is an
unrelated project); the import name and the command stay ``pybridge``.
"""

from __future__ import annotations

import email
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.release.conftest import (
    DISTRIBUTION,
    clean_environment,
    package_version,
    r_package_version,
    real_python,
    run,
)

pytestmark = [pytest.mark.release, pytest.mark.slow]

# Files the package reads at run time, which must ship in the wheel.
SHIPPED_DATA = [
    "pybridge/dlo/weights/dlo_cnn_lstm.safetensors",
    "pybridge/dlo/weights/dlo_cnn_lstm.json",
    "pybridge/data/astronaut_clip.mp4",
    "pybridge/data/simulated_emotion_series.csv",
]


def test_one_version_everywhere():
    import pybridge

    assert pybridge.__version__ == package_version()
    assert r_package_version() == package_version(), (
        "rpkg/DESCRIPTION's Version must equal pybridge.__version__: setup_modules() installs "
        "the Python package of the R package's version"
    )


def test_build_makes_sdist_and_wheel_named_for_the_distribution(distributions):
    version = package_version()
    assert distributions["wheel"].name == f"pybridge_emotion-{version}-py3-none-any.whl"
    assert distributions["sdist"].name == f"pybridge_emotion-{version}.tar.gz"

    with zipfile.ZipFile(distributions["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = email.message_from_string(
            wheel.read(f"pybridge_emotion-{version}.dist-info/METADATA").decode("utf-8")
        )
        entry_points = wheel.read(f"pybridge_emotion-{version}.dist-info/entry_points.txt").decode()
    assert metadata["Name"] == DISTRIBUTION
    assert metadata["Version"] == version
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "pybridge = pybridge.cli:main" in entry_points
    assert set(SHIPPED_DATA) <= names
    assert not [name for name in names if name.startswith("tests/")]
    print(f"\nwheel {distributions['wheel'].name}: {distributions['wheel'].stat().st_size / 1e6:.2f} MB")

    with tarfile.open(distributions["sdist"]) as sdist:
        members = {member.name.split("/", 1)[1] for member in sdist.getmembers() if "/" in member.name}
    assert {"pyproject.toml", "README.md", "pybridge/__init__.py", *SHIPPED_DATA} <= members


def test_twine_check_passes(distributions):
    result = run(
        [sys.executable, "-m", "twine", "check", "--strict", str(distributions["sdist"]), str(distributions["wheel"])]
    )
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_wheel_installs_into_a_fresh_virtualenv(distributions, tmp_path):
    # --system-site-packages: the dependencies (torch, ...) come from this machine, so
    # nothing is downloaded; the package itself must land inside the new environment.
    # --without-pip: the machine's pip and setuptools serve it (the old setuptools that
    # Python 3.11's ensurepip puts into a new environment would fail torch's requirement).
    venv = tmp_path / "venv"
    run([real_python(), "-m", "venv", "--system-site-packages", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    env = clean_environment(PIP_NO_INDEX="1")
    install = run(
        [str(python), "-m", "pip", "install", "--no-index", str(distributions["wheel"])], env=env, cwd=tmp_path
    )
    assert f"Successfully installed {DISTRIBUTION}-{package_version()}" in install.stdout

    probe = run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, pybridge\n"
            "print(pybridge.__file__)\n"
            "print(pybridge.__version__)\n"
            f"print(m.version({DISTRIBUTION!r}))\n"
            "print(pybridge.PyBridgeError.__module__)\n"
            "from importlib.resources import files\n"
            "print(files('pybridge.dlo').joinpath('weights/dlo_cnn_lstm.safetensors').is_file())",
        ],
        env=env,
        cwd=tmp_path,
    )
    module_file, version, dist_version, error_module, weights = probe.stdout.split()
    assert Path(module_file).resolve().is_relative_to(venv.resolve())
    assert not Path(module_file).resolve().is_relative_to(REPO_ROOT)
    assert version == dist_version == package_version()
    assert error_module == "pybridge.errors"
    assert weights == "True"

    command = run([str(venv / "bin" / "pybridge"), "--version"], env=env, cwd=tmp_path)
    assert package_version() in command.stdout + command.stderr
