from __future__ import annotations

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "demo_project.chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the listener/webhook receivers
