"""Template context every page needs: the user's role and the site's basemap settings."""

from django.conf import settings


def yimi(request):
    user = getattr(request, "user", None)
    return {
        "yimi_is_staff": bool(user is not None and getattr(user, "is_yimi_staff", False)),
        "yimi_basemap": settings.YIMI_BASEMAP,
    }
