"""Test-wide settings: no network, an isolated model cache, the reference fixtures.

Offline mode must be set before huggingface_hub is imported (it reads the variable
once, at import), so it is set here at the top, before any test module imports
transformers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_CACHE_ROOT = Path(tempfile.mkdtemp(prefix="pybridge-test-home-"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HOME"] = str(_CACHE_ROOT / "hf")
os.environ["HF_HUB_CACHE"] = str(_CACHE_ROOT / "hf" / "hub")
os.environ["HF_MODULES_CACHE"] = str(_CACHE_ROOT / "hf" / "modules")
os.environ["PYBRIDGE_CACHE"] = str(_CACHE_ROOT / "pybridge")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["tests.helpers.fixtures"]


# Embedding R (rpy2, tests/r) prepends R's library folders, Debian's
# /usr/lib/x86_64-linux-gnu among them, to LD_LIBRARY_PATH. A Python started later
# from this process (Dask workers, killed-and-resumed jobs) would then load Debian's
# libpython instead of its own and lose its site-packages. Restore it around each test.
_LIBRARY_PATH = os.environ.get("LD_LIBRARY_PATH")


@pytest.fixture(autouse=True)
def _keep_library_path():
    _restore_library_path()
    yield
    _restore_library_path()


def _restore_library_path() -> None:
    if os.environ.get("LD_LIBRARY_PATH") == _LIBRARY_PATH:
        return
    if _LIBRARY_PATH is None:
        os.environ.pop("LD_LIBRARY_PATH", None)
    else:
        os.environ["LD_LIBRARY_PATH"] = _LIBRARY_PATH


FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"


def reference_fixtures_dir() -> Path:
    """Folder of the R packages' reference outputs (``tests/fixtures``, see its README).

    ``PYBRIDGE_REFERENCE_FIXTURES`` overrides the location.
    """
    override = os.environ.get("PYBRIDGE_REFERENCE_FIXTURES")
    return Path(override) if override else FIXTURES_DIR


@pytest.fixture(scope="session")
def reference_fixtures() -> Path:
    """The reference fixtures folder (EGAnet's and transforEmotion's outputs)."""
    path = reference_fixtures_dir()
    if not (path / "eganet").is_dir() or not (path / "transforemotion").is_dir():
        pytest.fail(
            f"reference fixtures not found at {path}: tests/fixtures is part of the "
            "repository (restore it with `git checkout -- tests/fixtures`), or unset "
            "PYBRIDGE_REFERENCE_FIXTURES if it points elsewhere"
        )
    return path
