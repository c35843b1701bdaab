"""Two-step floating catchment area (2SFCA): supply per child within a walking catchment.

Computed from the sparse facility–home pairs of :meth:`NetworkIndex.reach`
(:func:`two_step_fca`), or inside the compiled searches without listing the pairs
(:func:`search_two_step_fca`), with a flat or a Gaussian distance decay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from yimi.analysis.access._arrays import FloatArray, float_vector, weighted_bincount
from yimi.analysis.access.network import NetworkIndex, PreparedTargets, Reach
from yimi.analysis.graph import Snap

__all__ = ["Decay", "FcaResult", "decay_weights", "search_two_step_fca", "two_step_fca"]

Decay = Literal["flat", "gaussian"]

_E_HALF = math.exp(-0.5)


@dataclass(frozen=True)
class FcaResult:
    """Result of :func:`two_step_fca`.

    Attributes
    ----------
    ratio : ndarray of float64, shape (n_sources,)
        Step 1: each facility's supply divided by the decay-weighted demand in its catchment;
        NaN where no demand lies in the catchment.
    access : ndarray of float64, shape (n_targets,)
        Step 2: the decay-weighted sum of the ratios of the facilities within reach of each
        home (supply per child; 0 where none is within reach).
    catchment_m : float
    decay : str
    """

    ratio: FloatArray
    access: FloatArray
    catchment_m: float
    decay: str


def decay_weights(dist_m: ArrayLike, catchment_m: float, decay: Decay = "flat") -> FloatArray:
    """Distance-decay weights within a catchment (0 beyond it).

    Parameters
    ----------
    dist_m : array_like of float
        Walking distances.
    catchment_m : float
        Catchment size d0.
    decay : {'flat', 'gaussian'}
        ``'flat'``: 1 within d0 (the original 2SFCA, Luo & Wang 2003). ``'gaussian'``:
        ``(exp(-½(d/d0)²) − exp(−½)) / (1 − exp(−½))``, 1 at the door falling to 0 at d0
        (Dai 2010, the Gaussian 2SFCA).

    Returns
    -------
    ndarray of float64
    """
    d = float_vector(dist_m, "dist_m")
    d0 = float(catchment_m)
    if not d0 > 0:
        raise ValueError("catchment_m must be positive")
    inside = d <= d0
    if decay == "flat":
        return inside.astype(np.float64)
    if decay == "gaussian":
        with np.errstate(over="ignore", invalid="ignore"):
            g = (np.exp(-0.5 * (d / d0) ** 2) - _E_HALF) / (1.0 - _E_HALF)
        return np.where(inside, np.maximum(g, 0.0), 0.0)
    raise ValueError(f"decay must be 'flat' or 'gaussian', not {decay!r}")


def two_step_fca(
    reach: Reach,
    supply: ArrayLike,
    demand: ArrayLike,
    *,
    catchment_m: float,
    decay: Decay = "flat",
) -> FcaResult:
    """Two-step floating catchment accessibility.

    Parameters
    ----------
    reach : Reach
        Facility–home pairs searched to at least ``catchment_m``.
    supply : array_like of float, shape (n_sources,)
        Capacity of each facility (seats, m² of playground, 1 each); finite, non-negative.
    demand : array_like of float, shape (n_targets,)
        Children at each home.
    catchment_m : float
        Catchment size d0 (walking metres).
    decay : {'flat', 'gaussian'}, default 'flat'
        See :func:`decay_weights`.

    Returns
    -------
    FcaResult

    Notes
    -----
    With the flat decay the supply is conserved: ``sum(access * demand)`` equals the supply of
    the facilities that have demand in their catchment.
    """
    s, p = _inputs(
        supply, demand, reach.n_sources, reach.n_targets, "the reach's sources and targets"
    )
    d0 = float(catchment_m)
    keep = reach.within(d0)
    src, tgt = reach.source[keep], reach.target[keep]
    w = decay_weights(reach.dist_m[keep], d0, decay)
    weighted = weighted_bincount(src, w * p[tgt], reach.n_sources)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted > 0, s / weighted, np.nan)
    contrib = np.where(np.isnan(ratio), 0.0, ratio)
    access = weighted_bincount(tgt, w * contrib[src], reach.n_targets)
    return FcaResult(ratio=ratio, access=access, catchment_m=d0, decay=decay)


def _inputs(
    supply: ArrayLike, demand: ArrayLike, n_sources: int, n_targets: int, what: str
) -> tuple[FloatArray, FloatArray]:
    s = float_vector(supply, "supply")
    p = float_vector(demand, "demand")
    if s.shape[0] != n_sources or p.shape[0] != n_targets:
        raise ValueError(f"supply and demand must match {what}")
    # min >= 0 is False for NaN (min propagates it), max < inf rules out +inf: two
    # reductions, no temporary arrays (the demand has one value per home).
    if s.size and not (s.min() >= 0 and s.max() < np.inf):
        raise ValueError("supply must be finite and non-negative")
    if p.size and not (p.min() >= 0 and p.max() < np.inf):
        raise ValueError("demand must be finite and non-negative")
    return s, p


def search_two_step_fca(
    index: NetworkIndex,
    sources: Snap,
    targets: Snap | PreparedTargets,
    supply: ArrayLike,
    demand: ArrayLike,
    *,
    catchment_m: float,
    decay: Decay = "flat",
) -> FcaResult:
    """Two-step floating catchment accessibility computed inside the compiled searches.

    The same result as ``two_step_fca(index.reach(sources, targets, catchment_m), ...)`` (up
    to the rounding of the sums, taken in another order: about 1e-16 relative) without
    listing the facility–home pairs: each facility's search finds its homes, step 1 sums
    their weighted demand, and step 2 at once adds the facility's ratio (times the weight)
    to the same homes before the next search. Where the facilities are split over threads,
    each thread adds to its own access array and the arrays are added up at the end.

    Parameters
    ----------
    index : NetworkIndex
    sources : Snap
        Facilities, snapped to ``index.graph``.
    targets : Snap or PreparedTargets
        Homes.
    supply, demand, catchment_m, decay
        As :func:`two_step_fca`.
    """
    tp = index.prepare_targets(targets)
    s, p = _inputs(supply, demand, len(sources), len(tp), "the sources and the targets")
    d0 = float(catchment_m)
    if not (d0 > 0 and math.isfinite(d0)):
        raise ValueError("catchment_m must be a positive, finite number")
    if decay not in ("flat", "gaussian"):
        raise ValueError(f"decay must be 'flat' or 'gaussian', not {decay!r}")
    weighted, access = index.fca_sums(sources, tp, s, p, d0, gaussian=decay == "gaussian")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted > 0, s / weighted, np.nan)
    return FcaResult(ratio=ratio, access=access, catchment_m=d0, decay=decay)
