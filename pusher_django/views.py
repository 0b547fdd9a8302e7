"""Channel authorization and user sign-in for pusher-js: HTTP in, a decision, HTTP out.

The auth endpoints accept what pusher-js sends (form-encoded ``socket_id``
and ``channel_name``) and JSON, keep CSRF protection on (pusher-js passes the
token in an ``X-CSRFToken`` header), and answer with a short JSON error:
400 for bad input, 403 for a refusal (anonymous users, a rule that denied or
raised, a user without a usable id — alike on both endpoints). Nothing a
browser sends can cause a 5xx. Whether a request may subscribe is decided by
:func:`pusher_django.authorization.decide`; a broken configuration becomes a
503 in :func:`pusher_django.endpoints.endpoint`. The webhook endpoint lives in
:mod:`pusher_django.webhooks`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.http import require_POST

from . import counters, safe_json
from .authorization import Decision, decide
from .channels import channel_kind, validate_channel_name
from .client import get_client
from .endpoints import FORBIDDEN, endpoint, error
from .exceptions import PusherValidationError, UnsafeJSON
from .identity import request_user, sign_in_data, who
from .validation import validate_socket_id

logger = logging.getLogger(__name__)

#: An auth request is a socket id and a channel name; anything much larger is not one.
MAX_AUTH_BODY = 16 * 1024
#: The most channels one batch request may authorize (a page rarely has more than a few dozen).
MAX_BATCH_CHANNELS = 100


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


def _check_channel(name: Any) -> str:
    channel = validate_channel_name(name)
    kind = channel_kind(channel)
    if not kind.needs_auth:
        raise PusherValidationError(f"{kind.label.capitalize()} channels need no authorization.")
    return channel


def _answer(
    request: HttpRequest, socket_id: str, channel: str, decision: Decision
) -> tuple[int, dict[str, Any]]:
    """``(status, body)`` for one channel: the signed auth payload, or a refusal."""
    if not decision.allowed:
        return 403, {"error": FORBIDDEN}
    user_data = None
    if channel_kind(channel).is_presence:
        user_data = {"user_id": decision.user_id, "user_info": decision.user_info}
    try:
        payload = get_client().authorize_channel(socket_id, channel, user_data)
    except PusherValidationError as err:
        logger.warning("Could not authorize %s for user %s: %s", channel, who(request), err)
        return 403, {"error": FORBIDDEN}
    return 200, dict(payload)


@endpoint("channel authorization")
@require_POST
def channel_auth(request: HttpRequest) -> JsonResponse:
    """``pusher/auth/``: authorize one private, presence or encrypted subscription."""
    try:
        fields = _fields(request)
        socket_id = validate_socket_id(fields.get("socket_id"))
        channel = _check_channel(fields.get("channel_name"))
    except PusherValidationError as err:
        return error(str(err), 400)
    status, body = _answer(request, socket_id, channel, decide(request, [channel])[0])
    counters.auth_decisions([status])
    return JsonResponse(body, status=status)


_INDEXED = re.compile(r"\Achannel_name\[([0-9]{1,4})\]\Z")


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


@endpoint("channel authorization")
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
    for channel, decision in zip(valid, decide(request, valid), strict=True):
        status, body = _answer(request, socket_id, channel, decision)
        counters.auth_decisions([status])
        results[channel] = (
            {"status": status, "data": body}
            if status == 200
            else {"status": status, "error": body["error"]}
        )
    return JsonResponse({socket_id: results})


@endpoint("user sign-in")
@require_POST
def user_auth(request: HttpRequest) -> JsonResponse:
    """``pusher/user-auth/``: sign the user in for ``pusher.signin()``."""
    try:
        socket_id = validate_socket_id(_fields(request).get("socket_id"))
    except PusherValidationError as err:
        return error(str(err), 400)
    if not request_user(request).is_authenticated:
        return error("Sign in first.", 403)
    user_data = sign_in_data(request)
    if user_data is None:
        return error(FORBIDDEN, 403)
    try:
        payload = get_client().authenticate_user(socket_id, user_data)
    except PusherValidationError as err:
        logger.warning("Could not sign in user %s: %s", who(request), err)
        return error(FORBIDDEN, 403)
    return JsonResponse(payload)
