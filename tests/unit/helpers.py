"""Dotted-path targets for settings used by the unit tests."""

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
