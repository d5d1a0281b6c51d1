"""The glasso port and walktrap against R's glasso 1.11 and igraph, run live.

These complement the EGAnet fixtures with fresh random inputs (other sizes, other
lambda.min.ratio). They need ``Rscript`` with the glasso and igraph packages (Debian
``r-cran-glasso``, ``r-cran-igraph``, installed by ``.ci/run``) and skip with that
reason otherwise.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from pybridge.dynamics.community import renumber, walktrap
from pybridge.dynamics.ebicglasso import lambda_grid, precision_to_network
from pybridge.dynamics.glasso import glasso_path


def _r_has(*packages: str) -> bool:
    if shutil.which("Rscript") is None:
        return False
    check = " && ".join(f"requireNamespace('{p}', quietly = TRUE)" for p in packages)
    result = subprocess.run(
        ["Rscript", "-e", f"quit(status = if ({check}) 0 else 1)"],
        capture_output=True, timeout=120,
    )
    return result.returncode == 0


pytestmark = pytest.mark.skipif(
    not _r_has("glasso", "igraph"), reason="needs Rscript with the glasso and igraph packages"
)


@pytest.fixture(scope="module")
def random_cases():
    rng = np.random.default_rng(42)
    cases = []
    for trial in range(6):
        p = int(rng.integers(6, 26))
        n = int(rng.integers(p // 2 + 3, 150))
        latent = rng.normal(size=(n, 3))
        x = latent @ rng.normal(size=(3, p)) * rng.uniform(0.3, 1.5) + rng.normal(size=(n, p))
        correlation = np.corrcoef(x, rowvar=False)
        correlation = np.triu(correlation, 1) + np.triu(correlation, 1).T + np.eye(p)
        grid = lambda_grid(correlation, 100, 0.1 if trial % 2 else 0.01)
        cases.append((correlation, grid))
    return cases


@pytest.fixture(scope="module")
def r_outputs(random_cases, tmp_path_factory):
    folder = tmp_path_factory.mktemp("r_reference")
    for i, (correlation, grid) in enumerate(random_cases):
        np.savetxt(folder / f"S{i}.txt", correlation, fmt="%.17g")
        np.savetxt(folder / f"L{i}.txt", grid, fmt="%.17g")
    script = f"""
    suppressMessages({{library(glasso); library(igraph)}})
    for (i in 0:{len(random_cases) - 1}) {{
      S <- as.matrix(read.table(file.path('{folder}', sprintf('S%d.txt', i))))
      L <- scan(file.path('{folder}', sprintf('L%d.txt', i)), quiet = TRUE)
      path <- glassopath(S, rholist = L, thr = 1e-4, maxit = 1e4, approx = FALSE,
                         penalize.diagonal = FALSE, trace = 0)
      write.table(matrix(sprintf('%.17g', path$wi), ncol = 1),
                  file.path('{folder}', sprintf('W%d.txt', i)),
                  row.names = FALSE, col.names = FALSE, quote = FALSE)
      K <- path$wi[, , 1]
      P <- -K / sqrt(outer(diag(K), diag(K))); diag(P) <- 0
      P[lower.tri(P)] <- t(P)[lower.tri(P)]
      g <- graph_from_adjacency_matrix(abs(P), mode = 'undirected', weighted = TRUE, diag = FALSE)
      write(membership(cluster_walktrap(g, steps = 4)),
            file.path('{folder}', sprintf('M%d.txt', i)), ncolumns = 1000)
    }}
    """
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True, timeout=300)
    outputs = []
    for i, (correlation, _) in enumerate(random_cases):
        p = correlation.shape[0]
        precisions = np.loadtxt(folder / f"W{i}.txt").reshape((p, p, 100), order="F")
        outputs.append((precisions.transpose(2, 0, 1), np.loadtxt(folder / f"M{i}.txt")))
    return outputs


def test_glasso_path_equals_r_glasso(random_cases, r_outputs):
    for (correlation, grid), (expected, _) in zip(random_cases, r_outputs):
        ours = glasso_path(correlation, grid)
        np.testing.assert_array_equal(ours == 0, expected == 0)
        assert np.abs(ours - expected).max() < 1e-10


def test_walktrap_partition_equals_r_igraph(random_cases, r_outputs):
    for (correlation, grid), (precisions, membership) in zip(random_cases, r_outputs):
        network = precision_to_network(precisions[0])
        np.testing.assert_array_equal(
            renumber(walktrap(np.abs(network)), allow_singleton=True),
            renumber(membership, allow_singleton=True),
        )
