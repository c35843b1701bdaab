"""Template context for the care part: whether the top bar shows the care link."""

from yimi.care import policy


def care(request):
    return {"care_nav": policy.may_use_care(getattr(request, "user", None))}
