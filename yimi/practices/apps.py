from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PracticesConfig(AppConfig):
    name = "yimi.practices"
    label = "practices"
    verbose_name = _("Practice library")

    def ready(self) -> None:
        from .services import catalog_sync_after_migrate

        # The catalogue ships with the code: every `migrate` brings the tables up to the data.
        post_migrate.connect(catalog_sync_after_migrate, sender=self)
