"""A fixed-window limit per client IP kept in Django's cache, shared by the form and the API.

One cache entry per (scope, IP) counts the attempts in the current window; Django's default
in-process cache is enough for one server process, a shared cache (Redis, memcached) for several.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from yimi.core import http

# scope → (attempts, window in seconds); settings may override with YIMI_VOICE_RATE_LIMITS.
DEFAULT_LIMITS = {
    "submit": (5, 600),
    "lookup": (30, 600),
    "register": (10, 600),  # event registrations (co-building)
}


def client_ip(request: HttpRequest) -> str:
    """The rate-limit key: :func:`yimi.core.http.client_ip`, or "unknown" without one."""
    return http.client_ip(request) or "unknown"


def _limit(scope: str) -> tuple[int, int]:
    overrides = getattr(settings, "YIMI_VOICE_RATE_LIMITS", None) or {}
    return tuple(overrides.get(scope, DEFAULT_LIMITS[scope]))  # type: ignore[return-value]


def hit(request: HttpRequest, scope: str) -> bool:
    """Count one attempt; True while the client is within its limit, False once over it."""
    attempts, window = _limit(scope)
    key = f"yimi:voice:rl:{scope}:{client_ip(request)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= attempts
