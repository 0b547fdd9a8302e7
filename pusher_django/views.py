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
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from django.contrib.auth import decorators as auth_decorators
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import safe_json, tasks, webhooks
from .authorization import get_policy, user_id_for
from .channels import channel_kind, validate_channel_name
from .client import get_client
from .conf import get_config
from .exceptions import (
    PusherConfigurationError,
    PusherValidationError,
    UnsafeJSON,
    WebhookAuthenticationError,
    WebhookFormatError,
)
from .history import DEFAULT_LIMIT as DEFAULT_HISTORY
from .history import MAX_LIMIT as MAX_HISTORY
from .history import events_after
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


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def unavailable(what: str, err: BaseException) -> JsonResponse:
    """A configuration problem: the operator reads the log, the browser learns nothing."""
    logger.error("Pusher %s is unavailable: %s", what, err)
    return error("Pusher is not available.", 503)


def _fields(request: HttpRequest) -> Mapping[str, Any]:
    try:
        if request.content_type == "application/json":
            data = safe_json.loads(request.body or b"{}", max_bytes=MAX_AUTH_BODY)
            if not isinstance(data, dict):
                raise PusherValidationError("The JSON body must be an object.")
            return data
        return request.POST
    except UnsafeJSON as err:
        raise PusherValidationError("The request body is not valid JSON.") from err
    except (MultiPartParserError, UnicodeDecodeError, ValueError) as err:
        raise PusherValidationError("The request body cannot be read.") from err


def _user(request: HttpRequest) -> Any:
    return getattr(request, "user", None) or AnonymousUser()


def default_user_data(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    return {"id": user_id_for(user), "user_info": {"name": user.get_username()}}


def _who(request: HttpRequest) -> str:
    user = _user(request)
    return str(user.pk) if user.is_authenticated else "-"


def _check_channel(name: Any) -> str:
    channel = validate_channel_name(name)
    kind = channel_kind(channel)
    if not kind.needs_auth:
        raise PusherValidationError(f"{kind.label.capitalize()} channels need no authorization.")
    return channel


def _answers(
    request: HttpRequest, socket_id: str, channels: list[str]
) -> list[tuple[int, dict[str, Any]]]:
    """``(status, body)`` per channel: the auth payload, or its own error."""
    try:
        verdicts = get_policy().authorize_many(request, channels)
    except (ImproperlyConfigured, ImportError) as err:
        raise PusherConfigurationError("Pusher cannot authorize now.") from err
    user_ids: dict[str, str | None] = {}
    answers = []
    for channel, verdict in zip(channels, verdicts, strict=True):
        answers.append(_answer(request, socket_id, channel, verdict, user_ids))
    return answers


def _answer(
    request: HttpRequest,
    socket_id: str,
    channel: str,
    verdict: Any,
    user_ids: dict[str, str | None],
) -> tuple[int, dict[str, Any]]:
    kind = channel_kind(channel)
    if isinstance(verdict, Exception):
        if isinstance(verdict, ImproperlyConfigured | ImportError):
            raise PusherConfigurationError("Pusher cannot authorize now.") from verdict
        logger.error("Channel rule for %s raised; denied", channel, exc_info=verdict)
        return 403, {"error": _FORBIDDEN}
    user_data = None
    if verdict and kind.is_presence:
        if "id" not in user_ids:
            try:
                user_ids["id"] = user_id_for(_user(request))
            except (ImproperlyConfigured, ImportError) as err:
                raise PusherConfigurationError("Pusher cannot authorize now.") from err
            except Exception:
                logger.exception("The presence user id of user %s raised", _who(request))
                user_ids["id"] = None
        info = verdict if isinstance(verdict, Mapping) else None
        user_data = {"user_id": user_ids["id"], "user_info": info}
    if not verdict or (user_data is not None and user_data["user_id"] is None):
        logger.info("Denied %s to user %s", channel, _who(request))
        return 403, {"error": _FORBIDDEN}
    try:
        payload = get_client().authorize_channel(socket_id, channel, user_data)
    except PusherValidationError as err:
        logger.warning("Could not authorize %s for user %s: %s", channel, _who(request), err)
        return 403, {"error": _FORBIDDEN}
    return 200, dict(payload)


@login_not_required
@require_POST
def channel_auth(request: HttpRequest) -> JsonResponse:
    """``pusher/auth/``: authorize one private, presence or encrypted subscription."""
    try:
        fields = _fields(request)
        socket_id = validate_socket_id(fields.get("socket_id"))
        channel = _check_channel(fields.get("channel_name"))
    except PusherValidationError as err:
        return error(str(err), 400)
    try:
        status, body = _answers(request, socket_id, [channel])[0]
    except PusherConfigurationError as err:
        return unavailable("channel authorization", err.__cause__ or err)
    return JsonResponse(body, status=status)


#: The most channels one batch request may authorize (a page rarely has more than a few dozen).
MAX_BATCH_CHANNELS = 100


def _batch_channels(fields: Mapping[str, Any]) -> list[Any]:
    """The channel names of a batch: JSON list, repeated ``channel_name`` or
    ``channel_name[]``, or the ``channel_name[0]``, ``channel_name[1]``… of
    the pusher-js-auth plugin."""
    if isinstance(fields, QueryDict):
        names = fields.getlist("channel_name") + fields.getlist("channel_name[]")
        indexed = []
        for key in fields:
            found = _INDEXED.match(key)
            if found:
                indexed.append((int(found[1]), fields[key]))
        return names + [name for _, name in sorted(indexed)]
    names = fields.get("channel_names", fields.get("channel_name"))
    if not isinstance(names, list):
        raise PusherValidationError("channel_names must be a list of channel names.")
    return names


_INDEXED = re.compile(r"\Achannel_name\[(\d{1,4})\]\Z")


@login_not_required
@require_POST
def channel_auth_batch(request: HttpRequest) -> JsonResponse:
    """``pusher/auth/batch/``: authorize many subscriptions of one socket in one request.

    The answer has the shape the pusher-js-auth plugin reads,
    ``{socket_id: {channel: {"status": 200, "data": {auth…}}}}``, with
    ``{"status": 403|400, "error": "…"}`` for a channel that is refused;
    one refusal never fails the others.
    """
    try:
        fields = _fields(request)
        socket_id = validate_socket_id(fields.get("socket_id"))
        names = _batch_channels(fields)
    except PusherValidationError as err:
        return error(str(err), 400)
    if not names:
        return error("No channel_name given.", 400)
    if len(names) > MAX_BATCH_CHANNELS:
        return error(f"At most {MAX_BATCH_CHANNELS} channels per batch request.", 400)
    results: dict[str, dict[str, Any]] = {}
    valid: list[str] = []
    for name in names:
        try:
            channel = _check_channel(name)
        except PusherValidationError as err:
            results[str(name)[:200]] = {"status": 400, "error": str(err)}
            continue
        if channel not in results:
            valid.append(channel)
            results[channel] = {}
    try:
        answers = _answers(request, socket_id, valid) if valid else []
    except PusherConfigurationError as err:
        return unavailable("channel authorization", err.__cause__ or err)
    for channel, (status, body) in zip(valid, answers, strict=True):
        results[channel] = (
            {"status": status, "data": body}
            if status == 200
            else {"status": status, "error": body["error"]}
        )
    return JsonResponse({socket_id: results})


@login_not_required
@require_GET
def history(request: HttpRequest) -> JsonResponse:
    """``pusher/history/?channel=…&after=<id>&limit=<n>``: events missed since ``after``.

    Allowed exactly when subscribing to the channel would be (public
    channels: anyone). Without ``after`` it answers only the position to
    resume from (``last_id``).
    """
    try:
        channel = validate_channel_name(request.GET.get("channel"))
        after = _bounded_int(request.GET.get("after"), "after", 0, 2**63 - 1)
        limit = _bounded_int(request.GET.get("limit"), "limit", 1, MAX_HISTORY) or DEFAULT_HISTORY
    except PusherValidationError as err:
        return error(str(err), 400)
    if channel_kind(channel).needs_auth:
        try:
            verdict = get_policy().authorize_many(request, [channel])[0]
        except (ImproperlyConfigured, ImportError) as err:
            return unavailable("history", err)
        if isinstance(verdict, Exception):
            logger.error("Channel rule for %s raised; history denied", channel, exc_info=verdict)
            return error(_FORBIDDEN, 403)
        if not verdict:
            logger.info("Denied the history of %s to user %s", channel, _who(request))
            return error(_FORBIDDEN, 403)
    page = events_after(channel, after, limit)
    return JsonResponse(page.as_json(channel))


def _bounded_int(value: str | None, name: str, low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit() or len(value) > 19 or not low <= int(value) <= high:
        raise PusherValidationError(f"{name} must be a whole number from {low} to {high}.")
    return int(value)


@login_not_required
@require_POST
def user_auth(request: HttpRequest) -> JsonResponse:
    """``pusher/user-auth/``: sign the user in for ``pusher.signin()``."""
    try:
        socket_id = validate_socket_id(_fields(request).get("socket_id"))
    except PusherValidationError as err:
        return error(str(err), 400)
    if not _user(request).is_authenticated:
        return error("Sign in first.", 403)
    try:
        path = get_config().auth.user_data
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
    except WebhookAuthenticationError as err:
        logger.warning("Pusher webhook refused: %s", err)
        return error(str(err), 401)
    except WebhookFormatError as err:
        logger.warning("Pusher webhook malformed: %s", err)
        return error(str(err), 400)
    answer: dict[str, Any] = {"ok": True}
    if delivery.skipped:
        answer["skipped"] = delivery.skipped
    if get_config().webhooks.asynchronous and tasks.enqueue(
        tasks.dispatch_webhook, delivery.time_ms, delivery.events
    ):
        return JsonResponse({**answer, "queued": len(delivery.events)})
    failures = webhooks.dispatch(delivery.time_ms, delivery.events)
    if failures:
        return error(f"{failures} event(s) failed in a receiver; retry.", 500)
    return JsonResponse(answer)
