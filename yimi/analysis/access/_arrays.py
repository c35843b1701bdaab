"""Small vectorised array helpers shared by the access modules (private)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def expand_ranges(starts: IntArray, lengths: IntArray) -> tuple[IntArray, IntArray]:
    """Concatenate the integer ranges ``[starts[i], starts[i] + lengths[i])``.

    Parameters
    ----------
    starts, lengths : ndarray of int64
        One range per entry; lengths must be non-negative.

    Returns
    -------
    values : ndarray of int64
        All ranges, concatenated in order.
    owner : ndarray of int64
        For each value, the index of the range it came from.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    owner = np.repeat(np.arange(lengths.shape[0], dtype=np.int64), lengths)
    if not total:
        return np.empty(0, dtype=np.int64), owner
    offsets = np.cumsum(lengths) - lengths
    values = np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, lengths)
    return values, owner


def weighted_bincount(index: IntArray, weights: FloatArray, n: int) -> FloatArray:
    """Sum of ``weights`` per index value, length ``n``, always float64.

    numpy's ``bincount`` returns integers when ``index`` is empty, even with float weights.
    """
    return np.bincount(index, weights=weights, minlength=n).astype(np.float64, copy=False)


def min_by_key(keys: IntArray, values: FloatArray) -> tuple[IntArray, FloatArray]:
    """The minimum value for each distinct key, keys ascending.

    Parameters
    ----------
    keys : ndarray of int64
    values : ndarray of float64
        Same length as ``keys``.

    Returns
    -------
    unique_keys : ndarray of int64
    minima : ndarray of float64
    """
    if not keys.size:
        return keys.astype(np.int64), values.astype(np.float64)
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    first = np.ones(k.shape[0], dtype=bool)
    first[1:] = k[1:] != k[:-1]
    starts = np.flatnonzero(first)
    return k[starts], np.minimum.reduceat(values[order], starts)


def float_vector(values: ArrayLike, name: str) -> FloatArray:
    """A 1-D float64 array (scalars become length-1 arrays), or a ValueError naming ``name``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array")
    return arr


def index_vector(values: ArrayLike, name: str) -> IntArray:
    """A 1-D int64 array of indices, or a ValueError naming ``name``."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array")
    # An empty list arrives as float64; anything else must already be integers.
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, not {arr.dtype}")
    return arr.astype(np.int64, copy=False)
