"""WGS-84 ⇄ GCJ-02 ⇄ BD-09 conversions, vectorised, with exact (iterated) inverses.

Chinese web maps (AMap/Gaode, Tencent: GCJ-02; Baidu: BD-09) publish obfuscated coordinates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CRS_CHOICES",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "normalise_crs",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = NDArray[np.float64]
# A point-wise map on (lon, lat) arrays.
_Map = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

CRS_CHOICES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

# The GCJ-02 formula as leaked and reproduced by every open converter (Krasovsky 1940 ellipsoid).
_A = 6378245.0
_EE = 0.00669342162296594323
# BD-09's extra rotation/scaling uses this "x_pi" factor.
_X_PI = np.pi * 3000.0 / 180.0
# The rectangle outside which everyone agrees no offset is applied (eviltransform's bounds).
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

# The inverses iterate until the forward residual is below 1e-12 degrees (about 0.1 µm) ...
_INVERSE_TOL = 1e-12
# ... and fail loudly rather than return anything worse than 1e-9 degrees (about 0.1 mm).
_INVERSE_GUARANTEE = 1e-9
# Each step shrinks the error at least 50-fold; 4 steps are typical. This is only a cap.
_MAX_ITER = 50

_ALIASES: dict[str, str] = {
    "wgs84": "wgs84",
    "gcj02": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",  # Baidu's own API name for BD-09 longitude/latitude
}


def _out(x: FloatArray, scalar: bool) -> FloatArray | float:
    return float(x) if scalar else x


def _validated(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    """Broadcast lon/lat to float arrays, refusing non-finite or out-of-range values.

    Returns the two arrays and whether both inputs were scalars (so results go back as floats).
    """
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    try:
        lon_a, lat_a = np.broadcast_arrays(
            np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        )
    except ValueError as exc:
        raise ValueError(f"longitude and latitude have incompatible shapes: {exc}") from None
    for name, values, limit in (("longitude", lon_a, 180.0), ("latitude", lat_a, 90.0)):
        bad = ~(np.isfinite(values) & (np.abs(values) <= limit))
        if bad.any():
            first = values[bad].flat[0]
            where = "" if scalar else f" (first bad value at index {np.argwhere(bad)[0].tolist()})"
            raise ValueError(
                f"{name} must be finite and within [-{limit:g}, {limit:g}] degrees; "
                f"got {first!r}{where}"
            )
    # Copies: broadcast views are read-only and may alias each other.
    return np.array(lon_a), np.array(lat_a), scalar


def _in_china(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_] | bool:
    """Whether points fall in the rectangle where GCJ-02/BD-09 offsets apply.

    Parameters
    ----------
    lon, lat : float or array_like
        Degrees, in any of the three systems (the rectangle is far coarser than the offsets).

    Returns
    -------
    bool or numpy.ndarray of bool
        ``True`` inside lon 72.004–137.8347, lat 0.8293–55.8271 (bounds included).
    """
    x, y, scalar = _validated(lon, lat)
    mask = _in_china(x, y)
    return bool(mask) if scalar else mask


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 shift (degrees) of a WGS-84 point, everywhere (no rectangle test)."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    # The shifts above are metres-ish on the Krasovsky ellipsoid; turn them into degrees.
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _wgs_to_gcj_raw(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd_raw(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_approx(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    # The widely copied one-step inverse: only a starting guess here (off by a few 1e-7 deg).
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: _Map, lon: FloatArray, lat: FloatArray, guess: tuple[FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(x, y) == (lon, lat)`` by fixed-point iteration from ``guess``.

    Both forward maps are the identity plus a perturbation whose derivative is at most ~0.02
    (BD-09's rotation term; GCJ-02's is ~0.003), so ``p <- p - (forward(p) - target)`` is a
    strong contraction (Newton with the Jacobian taken as the identity) and reaches machine
    precision in about four steps.
    """
    x, y = guess[0].copy(), guess[1].copy()
    residual = np.inf
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        rx, ry = fx - lon, fy - lat
        residual = float(np.max(np.maximum(np.abs(rx), np.abs(ry)), initial=0.0))
        if residual < _INVERSE_TOL:
            break
        x -= rx
        y -= ry
    if not residual < _INVERSE_GUARANTEE:  # pragma: no cover - not reachable for valid input
        raise ArithmeticError(f"inverse transform did not converge (residual {residual:g} deg)")
    return x, y


def _apply(
    lon: ArrayLike, lat: ArrayLike, kernel: _Map
) -> tuple[FloatArray | float, FloatArray | float]:
    """Validate, run ``kernel`` on the points inside China only, and pass the rest through.

    The rectangle test is made once, on the input point, so composite conversions never
    switch the offset on or off half-way (which would make them discontinuous and not
    invertible near the border). Outside China all three systems are plain WGS-84: no
    offsets exist there, and Baidu documents that its SDK uses WGS-84 coordinates abroad.
    """
    x, y, scalar = _validated(lon, lat)
    mask = _in_china(x, y)
    if mask.any():
        nx, ny = kernel(x[mask], y[mask])
        x[mask] = nx
        y[mask] = ny
    return _out(x, scalar), _out(y, scalar)


def _k_wgs_to_gcj(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _wgs_to_gcj_raw(lon, lat)


def _k_gcj_to_wgs(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return _invert(_wgs_to_gcj_raw, lon, lat, (lon - dlon, lat - dlat))


def _k_gcj_to_bd(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _gcj_to_bd_raw(lon, lat)


def _k_bd_to_gcj(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _invert(_gcj_to_bd_raw, lon, lat, _bd_to_gcj_approx(lon, lat))


def _k_wgs_to_bd(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _gcj_to_bd_raw(*_wgs_to_gcj_raw(lon, lat))


def _k_bd_to_wgs(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _k_gcj_to_wgs(*_k_bd_to_gcj(lon, lat))


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray | float, FloatArray | float]:
    """Convert WGS-84 (GPS, OpenStreetMap) to GCJ-02 (AMap/Gaode, Tencent).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 degrees; arrays are broadcast against each other.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02: Python floats for scalar input, else float64 arrays of the
        broadcast shape. Points outside China's rectangle are returned unchanged.

    Raises
    ------
    ValueError
        If a value is not finite or lies outside [-180, 180] / [-90, 90].
    """
    return _apply(lon, lat, _k_wgs_to_gcj)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray | float, FloatArray | float]:
    """Convert GCJ-02 to WGS-84 exactly (iterated until the forward residual is < 1e-12°).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 degrees; arrays are broadcast against each other.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84, shaped as in :func:`wgs84_to_gcj02`.

    Raises
    ------
    ValueError
        If a value is not finite or out of range.
    """
    return _apply(lon, lat, _k_gcj_to_wgs)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray | float, FloatArray | float]:
    """Convert GCJ-02 to BD-09 (Baidu's longitude/latitude, "bd09ll").

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 degrees; arrays are broadcast against each other.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09, shaped as in :func:`wgs84_to_gcj02`.

    Raises
    ------
    ValueError
        If a value is not finite or out of range.
    """
    return _apply(lon, lat, _k_gcj_to_bd)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray | float, FloatArray | float]:
    """Convert BD-09 to GCJ-02 exactly (iterated until the forward residual is < 1e-12°).

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 degrees; arrays are broadcast against each other.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02, shaped as in :func:`wgs84_to_gcj02`.

    Raises
    ------
    ValueError
        If a value is not finite or out of range.
    """
    return _apply(lon, lat, _k_bd_to_gcj)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray | float, FloatArray | float]:
    """Convert WGS-84 to BD-09 (through GCJ-02).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 degrees; arrays are broadcast against each other.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09, shaped as in :func:`wgs84_to_gcj02`.

    Raises
    ------
    ValueError
        If a value is not finite or out of range.
    """
    return _apply(lon, lat, _k_wgs_to_bd)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray | float, FloatArray | float]:
    """Convert BD-09 to WGS-84 exactly (both inverse steps iterated).

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 degrees; arrays are broadcast against each other.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84, shaped as in :func:`wgs84_to_gcj02`.

    Raises
    ------
    ValueError
        If a value is not finite or out of range.
    """
    return _apply(lon, lat, _k_bd_to_wgs)


def normalise_crs(name: str) -> str:
    """Map a coordinate-system name or alias to one of :data:`CRS_CHOICES`.

    Parameters
    ----------
    name : str
        Case-insensitive; dashes, underscores and spaces are ignored, so ``"WGS-84"``,
        ``"gcj_02"`` and ``"BD-09"`` are accepted, as is Baidu's ``"bd09ll"``.

    Returns
    -------
    str
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Raises
    ------
    ValueError
        If the name is not a known system (the message repeats it).
    """
    key = name.strip().lower() if isinstance(name, str) else None
    if key is not None:
        key = key.replace("-", "").replace("_", "").replace(" ", "")
    if key not in _ALIASES:
        raise ValueError(
            f"unknown coordinate system {name!r}; expected one of {', '.join(CRS_CHOICES)}"
        )
    return _ALIASES[key]


_TO_WGS: dict[str, _Map] = {
    "gcj02": _k_gcj_to_wgs,
    "bd09": _k_bd_to_wgs,
}
_FROM_WGS: dict[str, _Map] = {
    "gcj02": _k_wgs_to_gcj,
    "bd09": _k_wgs_to_bd,
}


def _identity(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return lon, lat


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, crs: str
) -> tuple[FloatArray | float, FloatArray | float]:
    """Convert coordinates given in ``crs`` to WGS-84.

    Parameters
    ----------
    lon, lat : float or array_like
        Degrees in ``crs``.
    crs : str
        Any name accepted by :func:`normalise_crs`.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84 (a validated copy when ``crs`` is already WGS-84).

    Raises
    ------
    ValueError
        For an unknown ``crs`` or bad coordinates.
    """
    return _apply(lon, lat, _TO_WGS.get(normalise_crs(crs), _identity))


def from_wgs84(
    lon: ArrayLike, lat: ArrayLike, crs: str
) -> tuple[FloatArray | float, FloatArray | float]:
    """Convert WGS-84 coordinates to ``crs``.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 degrees.
    crs : str
        Any name accepted by :func:`normalise_crs`.

    Returns
    -------
    tuple
        ``(lon, lat)`` in ``crs``.

    Raises
    ------
    ValueError
        For an unknown ``crs`` or bad coordinates.
    """
    return _apply(lon, lat, _FROM_WGS.get(normalise_crs(crs), _identity))
