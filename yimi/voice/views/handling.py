"""Voice pages: handling (being built)."""

urlpatterns: list = []
