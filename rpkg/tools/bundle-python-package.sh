#!/usr/bin/env bash
# Puts the wheel of the Python package (distribution pybridge-emotion) into
# rpkg/inst/python-package/, so that the R package carries it and setup_modules()
# installs exactly this version without asking the package index for it.
# Run it before `R CMD INSTALL rpkg` (installing from a clone) or `R CMD build rpkg`
# (build-r-package.sh does both).
#   bash rpkg/tools/bundle-python-package.sh          build the wheel from this checkout
#   bash rpkg/tools/bundle-python-package.sh WHEEL    bundle a wheel built already
# Prints the bundled wheel's path. Needs `python3 -m pip install build` for the first form.
set -euo pipefail
rpkg=$(cd "$(dirname "$0")/.." && pwd)
repo=$(dirname "$rpkg")
PYTHON=${PYTHON:-python3}

version=$(sed -n 's/^Version: *//p' "$rpkg/DESCRIPTION")
target="$rpkg/inst/python-package"
rm -rf "$target"
mkdir -p "$target"
if [ $# -ge 1 ]; then
  cp "$1" "$target/"
else
  "$PYTHON" -m build --wheel --outdir "$target" "$repo" >&2
fi
wheel="$target/pybridge_emotion-$version-py3-none-any.whl"
if [ ! -f "$wheel" ]; then
  echo "error: expected $(basename "$wheel"): the Python package's version" \
       "(pybridge/__init__.py) must equal the R package's (DESCRIPTION: $version); found:" >&2
  ls "$target" >&2
  rm -rf "$target"
  exit 1
fi
echo "$wheel"
