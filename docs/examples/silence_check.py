"""Silencing one check id in the settings (docs/reference/checks.md)."""

SILENCED_SYSTEM_CHECKS = ["pusher_django.W002"]
