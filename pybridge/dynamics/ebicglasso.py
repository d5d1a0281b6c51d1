"""EBIC model selection over the glasso path (EGAnet's ``EBICglasso.qgraph``).

EGAnet's defaults differ from qgraph's: ``lambda.min.ratio = 0.1`` (qgraph 0.01) and
``fast = FALSE`` (glasso's path algorithm). The extended BIC uses the raw, slightly
asymmetric precision matrices and counts every non-zero entry, diagonal included, as
half an edge; the network keeps the upper triangle of the partial correlations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import as_square_matrix
from .glasso import glasso_path

__all__ = ["EBICglassoResult", "ebic_glasso", "lambda_grid", "precision_to_network"]


@dataclass
class EBICglassoResult:
    """Everything EBICglasso computed.

    Attributes
    ----------
    network : numpy.ndarray, shape (p, p)
        Partial correlations at the selected penalty (zero diagonal, symmetric).
    lambdas : numpy.ndarray, shape (L,)
        Ascending penalty grid.
    ebic, loglik : numpy.ndarray, shape (L,)
        Extended BIC and log-likelihood of every path point.
    precisions : numpy.ndarray, shape (L, p, p)
        Raw precision matrices of the path.
    selected_index : int
        0-based index of the selected penalty (first minimum of EBIC).
    gamma : float
        EBIC hyperparameter used.
    """

    network: np.ndarray
    lambdas: np.ndarray
    ebic: np.ndarray
    loglik: np.ndarray
    precisions: np.ndarray
    selected_index: int
    gamma: float

    @property
    def selected_lambda(self) -> float:
        """The penalty of the selected network (EGAnet's ``lambda``)."""
        return float(self.lambdas[self.selected_index])

    @property
    def criterion(self) -> float:
        """The EBIC of the selected network (EGAnet's ``criterion``)."""
        return float(self.ebic[self.selected_index])


def lambda_grid(correlation: np.ndarray, n_lambda: int = 100, lambda_min_ratio: float = 0.1):
    """EGAnet's penalty grid: ``n_lambda`` log-spaced values up to ``max |R_ij|, i != j``.

    Parameters
    ----------
    correlation : numpy.ndarray, shape (p, p)
    n_lambda : int, default 100
    lambda_min_ratio : float, default 0.1

    Returns
    -------
    numpy.ndarray, shape (n_lambda,)
        Ascending.

    Raises
    ------
    InvalidInputError
        ``correlation`` is not a numeric square matrix.

    Examples
    --------
    >>> grid = lambda_grid(np.array([[1.0, 0.5], [0.5, 1.0]]), 3)
    >>> float(grid[-1])
    0.5
    """
    correlation = as_square_matrix(correlation, "correlation")
    largest = np.abs(correlation - np.eye(correlation.shape[0])).max()
    return np.exp(np.linspace(np.log(lambda_min_ratio * largest), np.log(largest), n_lambda))


def precision_to_network(precision: np.ndarray) -> np.ndarray:
    """Partial correlations from a (possibly asymmetric) precision matrix.

    ``P_ij = -K_ij / sqrt(K_ii K_jj)``, zero diagonal, upper triangle copied to the lower
    one (qgraph's ``wi2net`` as EGAnet uses it).

    Parameters
    ----------
    precision : numpy.ndarray, shape (p, p)

    Returns
    -------
    numpy.ndarray, shape (p, p)

    Raises
    ------
    InvalidInputError
        ``precision`` is not a numeric square matrix.

    Examples
    --------
    >>> round(float(precision_to_network(np.array([[2.0, -1.0], [-1.0, 2.0]]))[0, 1]), 12)
    0.5
    """
    precision = as_square_matrix(precision, "precision")
    scale = np.sqrt(np.diag(precision))
    network = -precision / np.outer(scale, scale)
    np.fill_diagonal(network, 0.0)
    upper = np.triu(network, 1)
    return upper + upper.T


def ebic_glasso(
    correlation: np.ndarray,
    n: int,
    gamma: float = 0.5,
    n_lambda: int = 100,
    lambda_min_ratio: float = 0.1,
    precisions: np.ndarray | None = None,
) -> EBICglassoResult:
    """Regularised partial-correlation network chosen by EBIC (EGAnet's EBICglasso).

    Parameters
    ----------
    correlation : numpy.ndarray, shape (p, p)
        Correlation matrix.
    n : int
        Sample size.
    gamma : float, default 0.5
        EBIC hyperparameter.
    n_lambda : int, default 100
        Grid size.
    lambda_min_ratio : float, default 0.1
        Smallest / largest penalty.
    precisions : numpy.ndarray, shape (n_lambda, p, p), optional
        The glasso path of this grid if already computed (the path does not depend on
        ``gamma``, so EGA's gamma loop reuses it).

    Returns
    -------
    EBICglassoResult

    Raises
    ------
    InvalidInputError
        ``correlation`` is not a numeric square matrix.

    Examples
    --------
    >>> r = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])
    >>> ebic_glasso(r, n=200).network.shape
    (3, 3)
    """
    correlation = as_square_matrix(correlation, "correlation")
    lambdas = lambda_grid(correlation, n_lambda, lambda_min_ratio)
    if precisions is None:
        precisions = glasso_path(correlation, lambdas)
    p = correlation.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_det = np.log(np.linalg.det(precisions))
    trace = np.einsum("ij,lji->l", correlation, precisions)
    loglik = n / 2 * (log_det - trace)
    edges = (precisions != 0).sum(axis=(1, 2)) / 2
    ebic = -2 * loglik + edges * np.log(n) + 4 * edges * gamma * np.log(p)
    selected = int(np.nanargmin(ebic))
    return EBICglassoResult(
        network=precision_to_network(precisions[selected]),
        lambdas=lambdas,
        ebic=ebic,
        loglik=loglik,
        precisions=precisions,
        selected_index=selected,
        gamma=float(gamma),
    )
