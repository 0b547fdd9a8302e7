"""HTTP endpoints: channel authorization and user sign-in for pusher-js, webhooks for Pusher.

The auth endpoints accept what pusher-js sends (form-encoded ``socket_id``
and ``channel_name``) and JSON, keep CSRF protection on (pusher-js passes the
token in an ``X-CSRFToken`` header), and answer every failure with a short
JSON error and a 4xx status, never a 500 and never a secret. The webhook
endpoint is CSRF-exempt because its HMAC signature authenticates it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import tasks, webhooks
from .authorization import get_policy, user_id_for
from .channels import channel_kind, validate_channel_name
from .client import get_client
from .conf import section
from .exceptions import PusherError, PusherValidationError
from .validation import validate_socket_id

logger = logging.getLogger(__name__)


class BadRequest(Exception):
    pass


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _fields(request: HttpRequest) -> Mapping[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as err:
            raise BadRequest("The request body is not valid JSON.") from err
        if not isinstance(data, dict):
            raise BadRequest("The JSON body must be an object.")
        return data
    return request.POST


def _user(request: HttpRequest) -> Any:
    return getattr(request, "user", None) or AnonymousUser()


def default_user_data(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    return {"id": user_id_for(user), "user_info": {"name": user.get_username()}}


@require_POST
def channel_auth(request: HttpRequest) -> JsonResponse:
    """``pusher/auth/``: authorize one private, presence or encrypted subscription."""
    try:
        fields = _fields(request)
        socket_id = validate_socket_id(fields.get("socket_id"))
        channel = validate_channel_name(fields.get("channel_name"))
    except (BadRequest, PusherValidationError) as err:
        return error(str(err), 400)
    kind = channel_kind(channel)
    if not kind.needs_auth:
        return error(f"{kind.label.capitalize()} channels need no authorization.", 400)
    user = _user(request)
    try:
        verdict = get_policy().authorize(request, channel)
        user_id = user_id_for(user) if verdict and kind.is_presence else None
    except Exception:
        logger.exception("Channel rule for %s raised; denied", channel)
        return error("Forbidden.", 403)
    if not verdict or (kind.is_presence and user_id is None):
        logger.info("Denied %s to user %s", channel, user.pk if user.is_authenticated else "-")
        return error("Forbidden.", 403)
    user_data = None
    if kind.is_presence:
        info = verdict if isinstance(verdict, Mapping) else None
        user_data = {"user_id": user_id, "user_info": info}
    try:
        payload = get_client().authorize_channel(socket_id, channel, user_data)
    except PusherValidationError as err:
        logger.warning("Could not authorize %s: %s", channel, err)
        return error(str(err), 400)
    return JsonResponse(payload)


@require_POST
def user_auth(request: HttpRequest) -> JsonResponse:
    """``pusher/user-auth/``: sign the user in for ``pusher.signin()``."""
    try:
        socket_id = validate_socket_id(_fields(request).get("socket_id"))
    except (BadRequest, PusherValidationError) as err:
        return error(str(err), 400)
    if not _user(request).is_authenticated:
        return error("Sign in first.", 403)
    path = section("AUTH")["USER_DATA"]
    try:
        user_data = import_string(path)(request) if path else default_user_data(request)
        payload = get_client().authenticate_user(socket_id, user_data)
    except PusherError as err:
        logger.warning("Could not sign in user %s: %s", _user(request).pk, err)
        return error(str(err), 400)
    return JsonResponse(payload)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    """``pusher/webhook/``: verify, then dispatch (or enqueue) one signal per event.

    A receiver that raises makes the answer 500 so that Pusher retries the
    delivery; the other events were dispatched first and are not re-run.
    """
    try:
        delivery = webhooks.verify(
            request.body,
            request.headers.get("X-Pusher-Key"),
            request.headers.get("X-Pusher-Signature"),
        )
    except webhooks.WebhookAuthenticationError as err:
        logger.warning("Pusher webhook refused: %s", err)
        return error(str(err), 401)
    except webhooks.WebhookFormatError as err:
        logger.warning("Pusher webhook malformed: %s", err)
        return error(str(err), 400)
    if section("WEBHOOKS")["ASYNC"] and tasks.enqueue(
        tasks.dispatch_webhook, delivery.time_ms, delivery.events
    ):
        return JsonResponse({"ok": True, "queued": len(delivery.events)})
    failures = webhooks.dispatch(delivery.time_ms, delivery.events)
    if failures:
        return error(f"{failures} event(s) failed in a receiver; retry.", 500)
    return JsonResponse({"ok": True})
