"""The roles of Yimi's users and what each may do; one place to read the permission model."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("System administrator")
    WCCO = "wcco", _("Women and Children Working Committee Office")
    DEPARTMENT = "department", _("Department staff")
    SUPERVISOR = "supervisor", _("Street child supervisor")
    DIRECTOR = "director", _("Community child director")
    EXPERT = "expert", _("Expert")
    VOLUNTEER = "volunteer", _("Volunteer")
    PUBLIC = "public", _("Public")


# Roles that work on the city's data (as opposed to experts and the public).
STAFF_ROLES = frozenset({Role.ADMIN, Role.WCCO, Role.DEPARTMENT, Role.SUPERVISOR, Role.DIRECTOR})
# Roles whose scope is their department as well as their area.
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT})
