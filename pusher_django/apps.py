"""App configuration: checks, a log filter and rule discovery; no network or database work."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class PusherDjangoConfig(AppConfig):
    name = "pusher_django"
    verbose_name = "Pusher"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from . import reporting, user_connections
        from .checks import check_outbox_databases, check_settings

        checks.register(check_settings, "pusher")
        checks.register(check_outbox_databases, "pusher", deploy=True)
        reporting.install_log_filter()
        user_connections.connect()
        autodiscover_modules("pusher_channels")
