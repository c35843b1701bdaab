"""Template context for the care part: whether the top bar shows the care link, and which
care pages the user's role opens (the sub-navigation)."""

from yimi.care import policy


def care(request):
    user = getattr(request, "user", None)
    if not policy.may_use_care(user):
        return {"care_nav": False}
    return {
        "care_nav": True,
        "care_caseworker": policy.is_caseworker(user),
        "care_oversight": policy.is_oversight(user),
        "care_department": policy.is_department(user),
        "care_volunteer": policy.is_volunteer(user),
    }
