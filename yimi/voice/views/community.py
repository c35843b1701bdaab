"""Voice pages: community (being built)."""

urlpatterns: list = []
