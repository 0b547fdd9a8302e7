"""Dotted-path targets for settings used by the unit tests, and settings they share."""

from __future__ import annotations

from typing import Any

from pusher_django.authorization import ChannelPolicy


def email_id(user: Any) -> str:
    return str(user.email)


def user_data(request: Any) -> dict[str, Any]:
    return {"id": str(request.user.pk), "watchlist": [1, 2]}


class OnlyStaffPolicy(ChannelPolicy):
    def authorize(self, request: Any, channel: str) -> bool:
        return bool(request.user.is_staff)


def celery_hand_off(settings: Any) -> None:
    """Commits hand their rows to the Celery task, not to this process's sender."""
    outbox = {**settings.PUSHER.get("OUTBOX", {}), "SEND_AT_COMMIT": False}
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": outbox}
