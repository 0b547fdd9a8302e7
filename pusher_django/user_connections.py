"""Ending a user's Pusher connections when their account or session ends.

Connected in ``AppConfig.ready``: deactivating (``is_active=False``) or
deleting a user terminates their connections through Celery after commit
(``PUSHER["USERS"]["TERMINATE_ON_DEACTIVATE"]``, on by default); logging out
does too when ``PUSHER["USERS"]["TERMINATE_ON_LOGOUT"]`` is on. Only
connections that signed in with ``pusher.signin()`` are affected.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save

from .client import get_client
from .conf import UsersSettings, get_config
from .exceptions import PusherConfigurationError, PusherError
from .identity import user_id_for

logger = logging.getLogger(__name__)


def terminate_connections(user_id: str) -> bool:
    """Through the Celery task when a broker takes it (``True``), else directly (``False``).

    A direct call that fails raises :class:`PusherError`.
    """
    from . import tasks

    return tasks.enqueue_or_run(
        tasks.terminate_user_connections,
        user_id,
        fallback=lambda: get_client().terminate_user_connections(user_id),
    )


def terminate_after_commit(user: Any) -> None:
    user_id = user_id_for(user) if user.is_authenticated else None
    if not user_id:
        return

    def terminate() -> None:
        try:
            terminate_connections(user_id)
        except PusherError:
            logger.exception("Could not terminate the connections of user %s", user_id)

    transaction.on_commit(terminate)


def _remember_active(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._pusher_was_active = getattr(instance, "is_active", True)


def _settings() -> UsersSettings | None:
    """``None`` when Pusher is misconfigured: saving a user must never fail because of it."""
    try:
        return get_config().users
    except PusherConfigurationError:
        logger.warning("Pusher is not configured; user connections are not terminated")
        return None


def _on_save(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    was_active = getattr(instance, "_pusher_was_active", True)
    instance._pusher_was_active = instance.is_active
    if raw or created or not was_active or instance.is_active:
        return
    options = _settings()
    if options is not None and options.terminate_on_deactivate:
        terminate_after_commit(instance)


def _on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    options = _settings()
    if options is not None and options.terminate_on_deactivate:
        terminate_after_commit(instance)


def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    options = _settings()
    if user is not None and options is not None and options.terminate_on_logout:
        terminate_after_commit(user)


def connect() -> None:
    user_model = get_user_model()
    uid = "pusher_django.users"
    post_init.connect(_remember_active, sender=user_model, dispatch_uid=uid)
    post_save.connect(_on_save, sender=user_model, dispatch_uid=uid)
    post_delete.connect(_on_delete, sender=user_model, dispatch_uid=uid)
    user_logged_out.connect(_on_logout, dispatch_uid=uid)
