"""Observer groups and co-building: their pages live in ``groups`` and ``cobuilding``."""

from . import cobuilding, groups

urlpatterns = [*groups.urlpatterns, *cobuilding.urlpatterns]
