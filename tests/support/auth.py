"""Answering pusher-js auth requests with the library's own local authorization."""

from __future__ import annotations

from typing import Any

from pusher_django.client import get_client

from .pusherjs import Authorizer


def local_authorizer(user_id: str = "1", user_info: dict[str, Any] | None = None) -> Authorizer:
    """Authorize every channel (and sign in) as ``user_id`` with the app secret."""

    def authorize(kind: str, socket_id: str, channel: str | None) -> dict[str, Any]:
        client = get_client()
        if kind == "user":
            return dict(client.authenticate_user(socket_id, {"id": user_id}))
        assert channel is not None
        user_data = None
        if channel.startswith(("presence-", "presence-cache-")):
            user_data = {"user_id": user_id, "user_info": user_info or {"name": f"user {user_id}"}}
        return dict(client.authorize_channel(socket_id, channel, user_data))

    return authorize
