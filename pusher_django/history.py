"""``pusher/history/``: catching a page up on what a channel sent, or saying it cannot.

The outbox keeps every sent event for ``OUTBOX["RETENTION"]`` seconds with
its id. A channel's *position* is the id of the last event it sent, in the
order it sent them (``sent_at``, then id: one channel's events go out one
after another, so that is the order pages received them). A page that holds
a position asks for what came after it and gets either every event since,
in order (``recovered``), or none at all with the reason (``too_old``,
``too_many``, ``unknown_position``) — never part of the gap, the shape of
Centrifugo's recovery. Events triggered directly through the client never
pass through the outbox and cannot be recovered.

One event is also read by id (``?channel=…&id=…``): that is how a page
resolves a large event sent by reference (docs/large-events.md), so only the
exact channel's row answers, and any other id, pruned or of another channel,
answers the same 410, whichever is true.

Channel names compare exactly whatever the database's collation: a
case-insensitive MariaDB column would otherwise hand ``PRIVATE-room-1``
(a public name) the rows of ``private-room-1``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.lookups import Exact
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from .authorization import decide
from .channels import validate_channel_name
from .conf import get_config
from .endpoints import FORBIDDEN, endpoint, error
from .exceptions import PusherValidationError
from .models import Delivery
from .outbox.events import id_field, sent_data, wire_data
from .payloads import decode_data
from .validation import parse_whole_number, validate_socket_id

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
#: The largest gap one catch-up returns; a longer one is ``too_many``.
MAX_LIMIT = 500
#: A page sends the socket ids it had since its position; more is not a page.
MAX_SOCKET_IDS = 10
_MAX_ID = 2**63 - 1
_RESERVED_PREFIXES = ("pusher:", "pusher_internal:")


class Reason(StrEnum):
    """Why a catch-up could not recover: the page must reload its state."""

    #: The position's event is no longer retained (or the page was away longer than that).
    TOO_OLD = "too_old"
    #: More events were sent since the position than the page asked to receive.
    TOO_MANY = "too_many"
    #: The position is not an event this channel sent.
    UNKNOWN_POSITION = "unknown_position"


@dataclass(frozen=True)
class CatchUp:
    """The answer to "what did ``channel`` send after ``after``?"."""

    channel: str
    #: Resume from here: the last event returned, else the channel's position.
    position: int
    recovered: bool
    reason: Reason | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "position": self.position,
            "recovered": self.recovered,
            "reason": self.reason,
            "events": self.events,
        }


class ExactBytes(Exact):
    """``=`` that also compares the bytes on MySQL/MariaDB, whose collations ignore case.

    The plain comparison stays first so the channel index still serves it;
    the byte comparison only drops the rows of names that differ in case.
    """

    def as_mysql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        sql = f"({lhs} = {rhs} AND CAST({lhs} AS BINARY) = CAST({rhs} AS BINARY))"
        return sql, [*lhs_params, *rhs_params, *lhs_params, *rhs_params]


def sent_rows(channel: str) -> QuerySet[Delivery]:
    """The sent rows of exactly ``channel`` (index: channel, status, sent_at, id)."""
    reserved = Q()
    for prefix in _RESERVED_PREFIXES:
        reserved |= Q(name__startswith=prefix)
    return (
        Delivery.objects.filter(ExactBytes(F("channel"), channel), status=Delivery.Status.SENT)
        .exclude(reserved)
        .order_by("sent_at", "id")
    )


def position(channel: str) -> int:
    """The id of the last event ``channel`` sent that is still retained; 0 if none."""
    last = sent_rows(channel).reverse().values_list("id", "channel").first()
    return last[0] if last is not None and last[1] == channel else 0


def positions(channels: Iterable[str]) -> dict[str, int]:
    """:func:`position` of each channel: take them before reading what the page shows."""
    return {channel: position(channel) for channel in channels}


def catch_up(
    channel: str,
    after: int,
    *,
    limit: int = DEFAULT_LIMIT,
    age: float | None = None,
    socket_ids: Sequence[str] = (),
) -> CatchUp:
    """Every event ``channel`` sent after position ``after``, or the reason there is none.

    ``after`` 0 is the position of a channel with nothing retained: only
    ``age`` (seconds since the page took the position) can tell whether
    events sent since have been pruned already, so without it 0 recovers
    whatever is retained. Events sent with one of ``socket_ids`` excluded
    are left out: that page caused them and was not sent them.
    """
    rows = sent_rows(channel)
    if after > 0:
        anchor = Delivery.objects.filter(pk=after).values("channel", "status", "sent_at").first()
        if anchor is None:
            return _not_recovered(channel, _why_missing(after))
        if anchor["channel"] != channel or anchor["status"] != Delivery.Status.SENT:
            return _not_recovered(channel, Reason.UNKNOWN_POSITION)
        when = anchor["sent_at"]
        rows = rows.filter(sent_at__gte=when).exclude(sent_at=when, id__lte=after)
    elif age is not None and age >= get_config().outbox.retention:
        return _not_recovered(channel, Reason.TOO_OLD)
    if socket_ids:
        rows = rows.exclude(socket_id__in=socket_ids)
    columns = ("id", "channel", "name", "data", "data_is_object", "is_reference")
    found = list(rows.values_list(*columns)[: limit + 1])
    if len(found) > limit:
        return _not_recovered(channel, Reason.TOO_MANY)
    key = id_field()
    # A large event comes back as its reference, as it was sent: the page resolves each one.
    events = [
        {"id": pk, "event": name, "data": decode_data(sent_data(data, obj, ref, pk, key))}
        for pk, exact, name, data, obj, ref in found
        if exact == channel and not name.startswith(_RESERVED_PREFIXES)
    ]
    return CatchUp(channel, events[-1]["id"] if events else after, True, events=events)


def find_event(channel: str, event_id: int) -> dict[str, Any] | None:
    """Event ``event_id`` of exactly ``channel``, whole, as :func:`catch_up` lists events.

    A primary-key lookup. Any status answers: the relay marks a row sent only
    after Pusher accepted it, and a page may ask for a reference it was sent
    before that. ``None`` when the row is gone or is not this channel's.
    """
    row = (
        Delivery.objects.filter(pk=event_id)
        .values("channel", "name", "data", "data_is_object")
        .first()
    )
    if row is None or row["channel"] != channel or row["name"].startswith(_RESERVED_PREFIXES):
        return None
    data = wire_data(row["data"], row["data_is_object"], event_id, id_field())
    return {"id": event_id, "event": row["name"], "data": decode_data(data)}


def _why_missing(after: int) -> Reason:
    """A missing id below the newest one was pruned; a larger one was never a position."""
    newest = Delivery.objects.order_by("-pk").values_list("pk", flat=True).first()
    return Reason.TOO_OLD if newest is not None and after <= newest else Reason.UNKNOWN_POSITION


def _not_recovered(channel: str, reason: Reason) -> CatchUp:
    logger.debug("History of %s not recovered: %s", channel, reason)
    return CatchUp(channel, position(channel), False, reason)


def may_read(request: HttpRequest, channel: str) -> bool:
    """Exactly when subscribing would be allowed (presence: with a user id).

    Raises :class:`PusherConfigurationError` on a broken configuration.
    """
    return decide(request, [channel])[0].allowed


def _query(request: HttpRequest) -> tuple[str, int | None, int, int | None, list[str]]:
    params = request.GET
    channel = validate_channel_name(params.get("channel"))
    if "id" in params:
        raise PusherValidationError("id is asked for on its own: channel and id.")

    after = parse_whole_number(params.get("after"), "after", 0, _MAX_ID)
    limit = parse_whole_number(params.get("limit"), "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    age = parse_whole_number(params.get("age"), "age", 0, _MAX_ID)
    socket_ids = params.getlist("socket_id")
    if len(socket_ids) > MAX_SOCKET_IDS:
        raise PusherValidationError(f"At most {MAX_SOCKET_IDS} socket_id parameters.")
    return channel, after, limit, age, [validate_socket_id(value) for value in socket_ids]


@endpoint("history")
@require_GET
def history(request: HttpRequest) -> JsonResponse:
    """``pusher/history/?channel=…&after=<position>&limit=<n>&age=<s>&socket_id=…``.

    Allowed exactly when subscribing to the channel would be (public
    channels: anyone). Without ``after`` it answers the channel's position.
    ``?channel=…&id=<id>`` answers that one event (:func:`one_event`).
    """
    if set(request.GET) == {"channel", "id"}:
        return one_event(request)
    try:
        channel, after, limit, age, socket_ids = _query(request)
    except PusherValidationError as err:
        return error(str(err), 400)
    if not may_read(request, channel):
        return error(FORBIDDEN, 403)
    if after is None:
        answer = CatchUp(channel, position(channel), True)
    else:
        answer = catch_up(channel, after, limit=limit, age=age, socket_ids=socket_ids)
    return JsonResponse(answer.as_json())


def one_event(request: HttpRequest) -> JsonResponse:
    """``{"channel": …, "event": {id, event, data}}``; 403 as subscribing, 410 gone, 404 never was.

    Authorization comes first, so a refused caller learns nothing about the id.
    """
    try:
        channel = validate_channel_name(request.GET.get("channel"))
        event_id = parse_whole_number(request.GET.get("id"), "id", 1, _MAX_ID)
        if event_id is None:
            raise PusherValidationError("id must be a whole number from 1 to 2**63-1.")
    except PusherValidationError as err:
        return error(str(err), 400)
    if not may_read(request, channel):
        return error(FORBIDDEN, 403)
    found = find_event(channel, event_id)
    if found is not None:
        return JsonResponse({"channel": channel, "event": found})
    if _why_missing(event_id) is Reason.TOO_OLD:
        return error("The event is no longer retained (OUTBOX['RETENTION']).", 410)
    return error("No such event.", 404)
