#!/usr/bin/env bash
# Builds the R package's source tarball pybridge_VERSION.tar.gz with the Python
# package's wheel inside it (see bundle-python-package.sh), ready for
# `R CMD INSTALL pybridge_VERSION.tar.gz` (or install.packages(..., repos = NULL))
# and then setup_modules() in R.
#   bash rpkg/tools/build-r-package.sh [OUTDIR] [WHEEL]
# OUTDIR (default: the current folder) receives the tarball; WHEEL is a wheel built
# already (default: build it from this checkout). Prints the tarball's path.
set -euo pipefail
rpkg=$(cd "$(dirname "$0")/.." && pwd)
outdir=$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)

bash "$rpkg/tools/bundle-python-package.sh" ${2:+"$2"} >&2
version=$(sed -n 's/^Version: *//p' "$rpkg/DESCRIPTION")
(cd "$outdir" && R CMD build --no-build-vignettes "$rpkg" >&2)
echo "$outdir/pybridge_$version.tar.gz"
