"""Who a request is to Pusher: its user's Pusher id, their sign-in data, their name in logs.

The presence member id, the default sign-in data and terminating a user's
connections all use :func:`user_id_for`, so the three agree. Log lines name
a user by primary key only, never by their data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .conf import get_config
from .exceptions import PusherConfigurationError

logger = logging.getLogger(__name__)


def user_id_for(user: Any) -> str | None:
    """The Pusher user id of a Django user: ``PUSHER["AUTH"]["PRESENCE_USER_ID"]`` or the pk.

    Used for presence members, the default sign-in data and terminating
    connections, so that all three agree.
    """
    path = get_config().auth.presence_user_id
    if path:
        value = import_string(path)(user)
        return None if value in (None, "") else str(value)
    return str(user.pk) if user.is_authenticated else None


def request_user(request: HttpRequest) -> Any:
    """The request's user; anonymous when no authentication middleware set one."""
    return getattr(request, "user", None) or AnonymousUser()


def who(request: HttpRequest) -> str:
    """The user's pk for log lines (``-`` when anonymous): never their name or data."""
    user = request_user(request)
    return str(user.pk) if user.is_authenticated else "-"


def sign_in_data(request: HttpRequest) -> Mapping[str, Any] | None:
    """The ``user_data`` an authenticated request signs in with, or ``None`` to refuse (logged).

    ``PUSHER["AUTH"]["USER_DATA"]`` names a ``callable(request)``; by default
    the user's Pusher id and their username as ``user_info.name``. Raises
    :class:`PusherConfigurationError` when the setting does not import.
    """
    path = get_config().auth.user_data
    try:
        user_data = import_string(path)(request) if path else _default_user_data(request)
    except (ImproperlyConfigured, ImportError) as err:
        raise PusherConfigurationError("PUSHER['AUTH']['USER_DATA'] fails.") from err
    except Exception:
        logger.exception("The sign-in user data of user %s raised; refused", who(request))
        return None
    if not isinstance(user_data, Mapping) or user_data.get("id") in (None, ""):
        logger.warning("User %s has no Pusher user id; sign-in refused", who(request))
        return None
    return user_data


def _default_user_data(request: HttpRequest) -> dict[str, Any]:
    user = request_user(request)
    return {"id": user_id_for(user), "user_info": {"name": user.get_username()}}
