"""Small request helpers every app shares."""

from __future__ import annotations


def client_ip(request) -> str | None:
    """The client's address for audit rows and rate limits.

    ``REMOTE_ADDR`` only (never ``X-Forwarded-For``, which a client can forge): behind a reverse
    proxy, the proxy must set it.
    """
    return request.META.get("REMOTE_ADDR") if request is not None else None
