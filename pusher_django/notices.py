"""One builder per signal, one way to send it: the vocabulary shared by listener and webhooks.

A :class:`Notice` is a signal with its keyword arguments, built by the one
function named after the signal. The listener and the webhook view both build
their notices here, so a receiver sees the same keyword arguments whichever
source told it, and a new signal is one builder plus one line in
:mod:`pusher_django.signals`. :func:`send` is the one place that runs
receivers robustly and logs the ones that raise.

Receivers may be coroutine functions (``async def``) on Django 5.0 and later:
Django's ``send_robust`` runs them after the sync ones, concurrently, in one
``async_to_sync`` call, from the listener's dispatcher thread and from the
webhook view alike. Django 4.2 calls such a receiver and drops the coroutine
unawaited, and so does Django 5 for an object whose ``__call__`` is async;
:func:`send` closes that coroutine and reports the receiver as failed, with
a message saying why, instead of silently doing nothing.
"""

from __future__ import annotations

import logging
from types import CoroutineType
from typing import Any, NamedTuple

import django
from django.dispatch import Signal

from . import signals
from .signals import LISTENER

logger = logging.getLogger(__name__)

ASYNC_RECEIVERS = django.VERSION >= (5, 0)
if ASYNC_RECEIVERS:
    _UNAWAITED = (
        "the receiver returned a coroutine that Django did not await: connect an `async def` "
        "function (or mark it with asgiref.sync.markcoroutinefunction); it did not run"
    )
else:
    _UNAWAITED = (
        f"async signal receivers need Django 5.0 or later (this is Django "
        f"{django.get_version()}); the receiver did not run: make it a plain function"
    )


class Notice(NamedTuple):
    """A signal and the keyword arguments its receivers get (``source`` included)."""

    signal: Signal
    kwargs: dict[str, Any]


def member_added(channel: str, user_id: str, user_info: Any, source: str = LISTENER) -> Notice:
    kwargs = {"channel": channel, "user_id": user_id, "user_info": user_info, "source": source}
    return Notice(signals.member_added, kwargs)


def member_removed(channel: str, user_id: str, user_info: Any, source: str = LISTENER) -> Notice:
    kwargs = {"channel": channel, "user_id": user_id, "user_info": user_info, "source": source}
    return Notice(signals.member_removed, kwargs)


def subscription_count(channel: str, count: int, source: str = LISTENER) -> Notice:
    kwargs = {"channel": channel, "subscription_count": count, "source": source}
    return Notice(signals.subscription_count, kwargs)


def cache_miss(channel: str, source: str = LISTENER) -> Notice:
    return Notice(signals.cache_miss, {"channel": channel, "source": source})


def channel_occupied(channel: str, source: str) -> Notice:
    return Notice(signals.channel_occupied, {"channel": channel, "source": source})


def channel_vacated(channel: str, source: str) -> Notice:
    return Notice(signals.channel_vacated, {"channel": channel, "source": source})


def client_event(
    channel: str, event: str, data: Any, socket_id: str | None, user_id: str | None, source: str
) -> Notice:
    kwargs = {
        "channel": channel,
        "event": event,
        "data": data,
        "socket_id": socket_id,
        "user_id": user_id,
        "source": source,
    }
    return Notice(signals.client_event, kwargs)


def event_received(channel: str, event: str, data: Any, user_id: str | None) -> Notice:
    kwargs = {
        "channel": channel,
        "event": event,
        "data": data,
        "user_id": user_id,
        "source": LISTENER,
    }
    return Notice(signals.event_received, kwargs)


def subscription_succeeded(channel: str, members: dict[str, Any]) -> Notice:
    kwargs = {"channel": channel, "members": members, "source": LISTENER}
    return Notice(signals.subscription_succeeded, kwargs)


def subscription_error(channel: str, status: int | None, error: str) -> Notice:
    kwargs = {"channel": channel, "status": status, "error": error, "source": LISTENER}
    return Notice(signals.subscription_error, kwargs)


def connection_state_changed(previous: str, current: str, socket_id: str | None) -> Notice:
    kwargs = {"previous": previous, "current": current, "socket_id": socket_id, "source": LISTENER}
    return Notice(signals.connection_state_changed, kwargs)


def connection_error(code: int | None, message: str) -> Notice:
    return Notice(signals.connection_error, {"code": code, "message": message, "source": LISTENER})


def decryption_failed(channel: str, event: str, error: str) -> Notice:
    kwargs = {"channel": channel, "event": event, "error": error, "source": LISTENER}
    return Notice(signals.decryption_failed, kwargs)


def frame_rejected(event: str | None, error: str) -> Notice:
    return Notice(signals.frame_rejected, {"event": event, "error": error, "source": LISTENER})


def send(notice: Notice, sender: Any) -> bool:
    """Run every receiver; log each one that raised, with its traceback. ``False`` if any did."""
    ok = True
    for receiver, outcome in notice.signal.send_robust(sender, **notice.kwargs):
        result = outcome
        if isinstance(outcome, CoroutineType):
            outcome.close()
            result = TypeError(_UNAWAITED)
        if isinstance(result, BaseException):
            ok = False
            logger.error(
                "Pusher %s: receiver %r failed on %s",
                notice.kwargs["source"],
                receiver,
                notice.kwargs.get("channel", ""),
                exc_info=result,
            )
    return ok
