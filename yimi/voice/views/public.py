"""Voice pages: public (being built)."""

urlpatterns: list = []
