"""HTTP endpoints: channel authorization and user sign-in for pusher-js, webhooks for Pusher.

The auth endpoints accept what pusher-js sends (form-encoded ``socket_id``
and ``channel_name``) and JSON, keep CSRF protection on (pusher-js passes the
token in an ``X-CSRFToken`` header), and answer with a short JSON error:
400 for bad input, 403 for a refusal (anonymous users, a rule that denied or
raised, a user without a usable id — alike on both endpoints). Nothing a
browser sends can cause a 5xx. A broken configuration is logged for the
operator and answered with a generic 503 that describes nothing. The webhook
endpoint is CSRF-exempt because its HMAC signature authenticates it. All
three are exempt from ``LoginRequiredMiddleware`` (Django 5.1+): they answer
anonymous callers themselves, the way pusher-js and Pusher expect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from django.contrib.auth import decorators as auth_decorators
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import safe_json, tasks, webhooks
from .authorization import get_policy, user_id_for
from .channels import channel_kind, validate_channel_name
from .client import get_client
from .conf import section
from .exceptions import PusherConfigurationError, PusherValidationError
from .validation import validate_socket_id

_View = TypeVar("_View", bound=Callable[..., Any])


def login_not_required(view_func: _View) -> _View:
    """Exempt from ``LoginRequiredMiddleware``; Django < 5.1 has neither."""
    exempt = getattr(auth_decorators, "login_not_required", None)
    return cast(_View, exempt(view_func)) if exempt is not None else view_func


logger = logging.getLogger(__name__)

#: An auth request is a socket id and a channel name; anything much larger is not one.
MAX_AUTH_BODY = 16 * 1024
_FORBIDDEN = "Forbidden."


class _InvalidRequest(Exception):
    """The body could not be read as form fields or a JSON object."""


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def unavailable(what: str, err: Exception) -> JsonResponse:
    """A configuration problem: the operator reads the log, the browser learns nothing."""
    logger.error("Pusher %s is unavailable: %s", what, err)
    return error("Pusher is not available.", 503)


def _fields(request: HttpRequest) -> Mapping[str, Any]:
    try:
        if request.content_type == "application/json":
            data = safe_json.loads(request.body or b"{}", max_bytes=MAX_AUTH_BODY)
            if not isinstance(data, dict):
                raise _InvalidRequest("The JSON body must be an object.")
            return data
        return request.POST
    except safe_json.UnsafeJSON as err:
        raise _InvalidRequest("The request body is not valid JSON.") from err
    except (MultiPartParserError, UnicodeDecodeError, ValueError) as err:
        raise _InvalidRequest("The request body cannot be read.") from err


def _user(request: HttpRequest) -> Any:
    return getattr(request, "user", None) or AnonymousUser()


def default_user_data(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    return {"id": user_id_for(user), "user_info": {"name": user.get_username()}}


def _who(request: HttpRequest) -> str:
    user = _user(request)
    return str(user.pk) if user.is_authenticated else "-"


@login_not_required
@require_POST
def channel_auth(request: HttpRequest) -> JsonResponse:
    """``pusher/auth/``: authorize one private, presence or encrypted subscription."""
    try:
        fields = _fields(request)
        socket_id = validate_socket_id(fields.get("socket_id"))
        channel = validate_channel_name(fields.get("channel_name"))
    except (_InvalidRequest, PusherValidationError) as err:
        return error(str(err), 400)
    kind = channel_kind(channel)
    if not kind.needs_auth:
        return error(f"{kind.label.capitalize()} channels need no authorization.", 400)
    try:
        verdict = get_policy().authorize(request, channel)
        user_id = user_id_for(_user(request)) if verdict and kind.is_presence else None
    except (ImproperlyConfigured, ImportError) as err:
        return unavailable("channel authorization", err)
    except Exception:
        logger.exception("Channel rule for %s raised; denied", channel)
        return error(_FORBIDDEN, 403)
    if not verdict or (kind.is_presence and user_id is None):
        logger.info("Denied %s to user %s", channel, _who(request))
        return error(_FORBIDDEN, 403)
    user_data = None
    if kind.is_presence:
        info = verdict if isinstance(verdict, Mapping) else None
        user_data = {"user_id": user_id, "user_info": info}
    try:
        payload = get_client().authorize_channel(socket_id, channel, user_data)
    except PusherConfigurationError as err:
        return unavailable("channel authorization", err)
    except PusherValidationError as err:
        logger.warning("Could not authorize %s for user %s: %s", channel, _who(request), err)
        return error(_FORBIDDEN, 403)
    return JsonResponse(payload)


@login_not_required
@require_POST
def user_auth(request: HttpRequest) -> JsonResponse:
    """``pusher/user-auth/``: sign the user in for ``pusher.signin()``."""
    try:
        socket_id = validate_socket_id(_fields(request).get("socket_id"))
    except (_InvalidRequest, PusherValidationError) as err:
        return error(str(err), 400)
    if not _user(request).is_authenticated:
        return error("Sign in first.", 403)
    path = section("AUTH")["USER_DATA"]
    try:
        user_data = import_string(path)(request) if path else default_user_data(request)
    except (ImproperlyConfigured, ImportError) as err:
        return unavailable("user sign-in", err)
    except Exception:
        logger.exception("The sign-in user data of user %s raised; refused", _who(request))
        return error(_FORBIDDEN, 403)
    if not isinstance(user_data, Mapping) or user_data.get("id") in (None, ""):
        logger.warning("User %s has no Pusher user id; sign-in refused", _who(request))
        return error(_FORBIDDEN, 403)
    try:
        payload = get_client().authenticate_user(socket_id, user_data)
    except PusherConfigurationError as err:
        return unavailable("user sign-in", err)
    except PusherValidationError as err:
        logger.warning("Could not sign in user %s: %s", _who(request), err)
        return error(_FORBIDDEN, 403)
    return JsonResponse(payload)


@login_not_required
@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    """``pusher/webhook/``: verify, then dispatch (or enqueue) one signal per event.

    Events that are malformed are skipped and logged; the others still run.
    A receiver that raises makes the answer 500 so that Pusher retries the
    delivery; the other events were dispatched first and are not re-run.
    """
    try:
        delivery = webhooks.verify(
            request.body,
            request.headers.get("X-Pusher-Key"),
            request.headers.get("X-Pusher-Signature"),
        )
    except PusherConfigurationError as err:
        return unavailable("webhook", err)
    except webhooks.WebhookAuthenticationError as err:
        logger.warning("Pusher webhook refused: %s", err)
        return error(str(err), 401)
    except webhooks.WebhookFormatError as err:
        logger.warning("Pusher webhook malformed: %s", err)
        return error(str(err), 400)
    answer: dict[str, Any] = {"ok": True}
    if delivery.skipped:
        answer["skipped"] = delivery.skipped
    if section("WEBHOOKS")["ASYNC"] and tasks.enqueue(
        tasks.dispatch_webhook, delivery.time_ms, delivery.events
    ):
        return JsonResponse({**answer, "queued": len(delivery.events)})
    failures = webhooks.dispatch(delivery.time_ms, delivery.events)
    if failures:
        return error(f"{failures} event(s) failed in a receiver; retry.", 500)
    return JsonResponse(answer)
