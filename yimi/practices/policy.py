"""Who may do what in the practice library: the one place where it is decided.

- Everybody, the public included, reads the library (areas, measures, cases, search, map).
- Staff (yimi.core.roles.STAFF_ROLES) read the city's self-assessment (自评).
- 妇儿工委办 (wcco) and system administrators change it and export it.
"""

from __future__ import annotations

from yimi.core.models import User
from yimi.core.roles import STAFF_ROLES, Role


def can_view_progress(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_superuser or user.role in STAFF_ROLES)
    )


def can_edit_progress(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_superuser or user.role in (Role.ADMIN, Role.WCCO))
    )
