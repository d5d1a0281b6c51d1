"""EGAnet's random number streams: xoshiro256++ seeds, uniforms and ziggurat normals.

EGAnet draws its Louvain shuffles, its per-unit seeds and its zero-variance jitter from
its own xoshiro256++ generator, seeded through a chained splitmix64 (each splitmix
output is fed back as the next input). Reproducing EGAnet's random results therefore
needs this exact stream; numpy's generators cannot stand in for it.
"""

from __future__ import annotations

import time

import numba
import numpy as np

__all__ = ["reproducible_seeds", "seed_to_state", "xoshiro_uniforms", "ziggurat_normals"]

_MASK64 = (1 << 64) - 1


def _seed_integer(seed: float | None) -> int:
    """R's ``(uint64_t) REAL(seed)``; 0 means the wall clock (not reproducible)."""
    value = int(float(seed)) & _MASK64 if seed is not None else 0
    return value if value != 0 else time.time_ns() & _MASK64


def seed_to_state(seed: float | None) -> np.ndarray:
    """Initial xoshiro256++ state of EGAnet for a seed.

    Parameters
    ----------
    seed : float or None
        EGAnet seed (a double, truncated to an unsigned 64-bit integer). ``None`` or 0
        seeds from the clock, as EGAnet does.

    Returns
    -------
    numpy.ndarray of uint64, shape (4,)

    Examples
    --------
    >>> seed_to_state(1).dtype
    dtype('uint64')
    """
    return _splitmix_state(np.uint64(_seed_integer(seed)))


@numba.njit(cache=True, nogil=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@numba.njit(cache=True, nogil=True)
def next_uint64(state):
    """Advance a xoshiro256++ state in place and return its output."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    result = _rotl(s0 + s3, 23) + s0
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return result


@numba.njit(cache=True, nogil=True)
def next_uniform(state):
    """Advance a xoshiro256++ state in place and return a uniform on [0, 1)."""
    return np.float64(next_uint64(state)) / 18446744073709551616.0


@numba.njit(cache=True, nogil=True)
def _outputs(state, n):
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = next_uint64(state)
    return out


@numba.njit(cache=True, nogil=True)
def _splitmix_state(seed_integer):
    state = np.empty(4, dtype=np.uint64)
    z = seed_integer
    for k in range(4):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        state[k] = z
    return state


@numba.njit(cache=True, nogil=True)
def states_from_seeds(seeds):
    """Initial states for many EGAnet seeds (doubles truncated to uint64, as in C).

    Parameters
    ----------
    seeds : numpy.ndarray of float64, shape (n,)
        Positive seeds, e.g. from :func:`reproducible_seeds`.

    Returns
    -------
    numpy.ndarray of uint64, shape (n, 4)
    """
    states = np.empty((seeds.size, 4), dtype=np.uint64)
    for i in range(seeds.size):
        states[i] = _splitmix_state(np.uint64(seeds[i]))
    return states


def reproducible_seeds(n: int, seed: float | None) -> np.ndarray:
    """EGAnet's ``reproducible_seeds``: ``n`` generator outputs converted to doubles.

    Parameters
    ----------
    n : int
        Number of seeds.
    seed : float or None
        Master seed; ``None``/0 uses the clock.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        The seeds, rounded to double as in R (the low bits lost are part of EGAnet's
        stream).

    Examples
    --------
    >>> float(reproducible_seeds(1, 7)[0])
    6.889787583895302e+18
    """
    return _outputs(seed_to_state(seed), int(n)).astype(np.float64)


def xoshiro_uniforms(n: int, seed: float | None) -> np.ndarray:
    """``n`` uniforms on [0, 1) from EGAnet's generator (output / 2**64).

    Parameters
    ----------
    n : int
        Number of values.
    seed : float or None
        Seed as in :func:`reproducible_seeds`.

    Returns
    -------
    numpy.ndarray of float64

    Examples
    --------
    >>> bool(((xoshiro_uniforms(5, 1) >= 0) & (xoshiro_uniforms(5, 1) < 1)).all())
    True
    """
    return reproducible_seeds(n, seed) / 2.0**64


def _ziggurat_tables():
    dn = tn = 3.442619855899
    vn = 9.91256303526217e-3
    m1 = 2147483648.0
    kn = np.zeros(128, dtype=np.int64)
    fn = np.zeros(128)
    wn = np.zeros(128)
    kn[0] = 1991057938
    wn[0] = 1.729040521542796563654e-09
    wn[127] = 1.603094793809112161398e-09
    fn[0] = 1.0
    fn[127] = 0.002669629083880925288704
    for i in range(126, 0, -1):
        dn = np.sqrt(-2.0 * np.log(vn / dn + np.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = np.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, fn, wn


_KN, _FN, _WN = _ziggurat_tables()


@numba.njit(cache=True, nogil=True)
def _signed_low32(value):
    low = np.int64(value & np.uint64(0xFFFFFFFF))
    return low - np.int64(4294967296) if low >= 2147483648 else low


@numba.njit(cache=True, nogil=True)
def _ziggurat(state, n, kn, fn, wn):
    tail = 3.442620
    out = np.empty(n)
    for i in range(n):
        hz = _signed_low32(next_uint64(state))
        iz = hz & 127
        if abs(hz) < kn[iz]:
            out[i] = hz * wn[iz]
            continue
        while True:
            if iz == 0:
                while True:
                    x = -0.2904764 * np.log(next_uniform(state))
                    y = -np.log(next_uniform(state))
                    if x * x <= y + y:
                        break
                out[i] = -tail - x if hz <= 0 else tail + x
                break
            x = hz * wn[iz]
            if fn[iz] + next_uniform(state) * (fn[iz - 1] - fn[iz]) < np.exp(-0.5 * x * x):
                out[i] = x
                break
            hz = _signed_low32(next_uint64(state))
            iz = hz & 127
            if abs(hz) < kn[iz]:
                out[i] = hz * wn[iz]
                break
    return out


def ziggurat_normals(n: int, seed: float | None) -> np.ndarray:
    """Standard normals from EGAnet's ziggurat (Marsaglia–Tsang) on xoshiro256++.

    Parameters
    ----------
    n : int
        Number of values.
    seed : float or None
        Seed as in :func:`reproducible_seeds`.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)

    Examples
    --------
    >>> ziggurat_normals(3, 1).shape
    (3,)
    """
    return _ziggurat(seed_to_state(seed), int(n), _KN, _FN, _WN)
