"""Log a user in the way a browser would, for pusher-js clients in Node."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.utils.crypto import get_random_string


def session_headers(user: User) -> dict[str, str]:
    """Cookie and CSRF headers that make the auth endpoints see ``user``."""
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    csrf = get_random_string(32)
    return {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}


def endpoint_auth(base_url: str, user: User) -> dict[str, Any]:
    """``channel_auth`` / ``user_auth`` options for :class:`PusherJs`."""
    headers = session_headers(user)
    return {
        "channel_auth": {"endpoint": f"{base_url}/pusher/auth/", "headers": headers},
        "user_auth": {"endpoint": f"{base_url}/pusher/user-auth/", "headers": headers},
    }
