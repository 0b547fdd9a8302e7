"""Presence members as people: the listener's own membership left out.

``manage.py pusher_listen`` joins the presence channels it listens to as the member
``PUSHER["LISTENER"]["USER_ID"]``, so the server counts it in ``get_users`` and
``user_count`` like anyone else. Code that shows or counts people uses these instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pusher_django.client import PusherClient, get_client
from pusher_django.conf import get_config


def listener_user_id() -> str:
    """The presence member id the listener joins with."""
    return get_config().listener.user_id


def is_listener(user_id: object) -> bool:
    return str(user_id) == listener_user_id()


def without_listener(users: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ``users`` of a ``get_users`` answer, the listener's entry removed."""
    return [user for user in users if not is_listener(user.get("id"))]


def people(channel: str, client: PusherClient | None = None) -> list[str]:
    """The ids of a presence channel's members, without the listener (one REST call)."""
    answer: Any = (client or get_client()).get_users(channel)
    users = answer.get("users", []) if isinstance(answer, Mapping) else []
    return [
        str(user["id"])
        for user in without_listener(u for u in users if isinstance(u, Mapping))
        if "id" in user
    ]


def user_count(channel: str, client: PusherClient | None = None) -> int:
    """How many people are in a presence channel.

    ``get_channel(..., info="user_count")`` cannot say whether the listener is among
    those it counts, so this asks for the members themselves.
    """
    return len(people(channel, client))
