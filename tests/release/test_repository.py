"""The repository stands on its own and never points users at the wrong distribution.

Every tracked text file is read: none may install the bare name ``pybridge`` (on the
package index that is an unrelated project; this one is ``pybridge-emotion``), and none
may read anything from a ``shared`` folder beside the checkout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.release

PIP_INSTALL = re.compile(r"pip3?\s+install\b([^\n`]*)")
REQUIREMENT = re.compile(r"""^['"]?([A-Za-z0-9][A-Za-z0-9._-]*)""")
SHARED_FOLDER = re.compile(r"""\.\./shared|["']shared["']\s*[,/)]|parent\s*/\s*["']shared""")


def tracked_text_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.fail("these checks read the files git tracks: run them in a clone of the repository")
    names = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    files = []
    for name in filter(None, names):
        path = REPO_ROOT / name
        if path.is_file() and path != Path(__file__).resolve():
            try:
                path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # binary data (weights, media)
            files.append(path)
    return files


def installed_names(line_tail: str) -> list[str]:
    """Project names a ``pip install`` command line asks for (options and paths skipped)."""
    names = []
    for token in line_tail.split():
        match = REQUIREMENT.match(token)
        if token.startswith("-") or match is None or token.startswith((".", "/", "~")):
            continue
        names.append(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return names


def test_installed_names_reads_pip_command_lines():
    assert installed_names(" 'pybridge-emotion[quant]' -e .") == ["pybridge-emotion"]
    assert installed_names(' --no-deps "PyBridge==1.0"') == ["pybridge"]
    assert installed_names(" pybridge_emotion  # comment") == ["pybridge-emotion", "comment"]


def test_nothing_installs_the_unrelated_pybridge_distribution():
    offenders = []
    for path in tracked_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in PIP_INSTALL.finditer(line):
                if "pybridge" in installed_names(match.group(1)):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "install pybridge-emotion, never the bare name:\n" + "\n".join(offenders)


def test_nothing_reads_a_shared_folder_beside_the_checkout():
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for path in tracked_text_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SHARED_FOLDER.search(line)
    ]
    assert not offenders, "fixtures and documents live in the repository:\n" + "\n".join(offenders)
