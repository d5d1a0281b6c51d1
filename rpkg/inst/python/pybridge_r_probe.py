"""Report which ``pybridge`` module a Python environment imports (private to setup_modules()).

Run as a script by the R package, in a child process, before and after it installs the
Python package: ``python pybridge_r_probe.py [MODULE ...]``. It uses the standard library
only, so it runs in an empty environment, and prints ``key=value`` lines:

``python``       the interpreter (``sys.executable``); ``prefix`` its environment (``sys.prefix``)
``importable``   ``true`` when ``import pybridge`` succeeds, else ``false`` and ``error``
``project``      ``true`` when the module is this project (it defines ``PyBridgeError``);
                 an unrelated distribution that installs a module of the same name does not
``version``      the module's ``__version__`` (empty when it has none)
``file``         the module's file; ``in_prefix`` whether it lies inside ``prefix``
``distributions`` the installed distributions that provide the top-level ``pybridge``
``missing``      the MODULE arguments that cannot be imported (the extras' modules)

Examples
--------
``python pybridge_r_probe.py open_clip`` prints, in an environment set up with the
``openclip`` extra, lines such as ``importable=true`` ``version=0.1.0`` ``missing=``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys


def probe(extra_modules: list[str]) -> dict[str, str]:
    """Describe the ``pybridge`` module this interpreter imports.

    Parameters
    ----------
    extra_modules : list of str
        Further modules that must be importable (those of the requested extras).

    Returns
    -------
    dict of str to str
        The keys listed in the module docstring.
    """
    report = {"python": sys.executable, "prefix": sys.prefix}
    try:
        module = importlib.import_module("pybridge")
    except Exception as error:  # noqa: BLE001 - whatever an unrelated package raises is reported
        report.update(importable="false", error=f"{type(error).__name__}: {error}")
    else:
        file = str(getattr(module, "__file__", "") or "")
        inside = bool(file) and os.path.realpath(file).startswith(os.path.realpath(sys.prefix) + os.sep)
        report.update(
            importable="true",
            project=str(hasattr(module, "PyBridgeError")).lower(),
            version=str(getattr(module, "__version__", "") or ""),
            file=file,
            in_prefix=str(inside).lower(),
        )
    providers = sorted(set(importlib.metadata.packages_distributions().get("pybridge", [])))
    report["distributions"] = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in providers)
    missing = []
    for name in extra_modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - any failure means the extra is not usable
            missing.append(name)
    report["missing"] = ",".join(missing)
    return report


if __name__ == "__main__":
    # Run as a script, sys.path starts with this script's folder, not the current one,
    # so a `pybridge` folder where R was started does not hide what is installed.
    for key, value in probe(sys.argv[1:]).items():
        print(f"{key}={' '.join(value.split())}")
