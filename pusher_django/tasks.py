"""Celery tasks that call the Pusher REST API, with retries for transient failures.

Arguments are plain JSON so any serializer works. Transient failures
(network, timeouts, 5xx, 429) are retried with exponential backoff and full
jitter, honouring ``Retry-After``; bad input (4xx) is logged and not retried.
``trigger_batch`` takes any number of events and sends them in order, ten per
request; a retry resends only the events not yet accepted.

Broadcasts do not travel in task arguments: ``deliver_outbox`` (one per
committed transaction) and ``relay_outbox`` (periodic) read the outbox
table, so a lost or redelivered task loses or repeats nothing beyond what
the table says. They acknowledge late and are rejected back to the broker
when the worker dies, so a killed worker's task runs again elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from celery import Task, shared_task

from .client import MAX_BATCH_EVENTS, get_client, send_events
from .conf import get_config
from .exceptions import PusherError, PusherTransientError
from .retry import max_retries, retry_delay

__all__ = [
    "deliver_outbox",
    "enqueue",
    "enqueue_or_run",
    "relay_outbox",
    "send_to_user",
    "terminate_user_connections",
    "trigger",
    "trigger_batch",
]

logger = logging.getLogger(__name__)


def enqueue(task: Task[Any, Any], *args: Any, countdown: float | None = None) -> bool:
    """Send a task to ``PUSHER["CELERY"]["QUEUE"]``; ``False`` (logged) if the broker failed.

    Callers fall back to doing the work in-process, so a broker outage
    delays nothing and loses nothing.
    """
    queue = get_config().celery.queue
    try:
        options: dict[str, Any] = {"queue": queue} if queue else {}
        if countdown is not None:
            options["countdown"] = countdown
        task.apply_async(args=args, **options)
    except Exception:
        logger.exception("Could not enqueue %s; the caller falls back to running it now", task.name)
        return False
    return True


def enqueue_or_run(task: Task[Any, Any], *args: Any, fallback: Callable[[], object]) -> bool:
    """Hand ``task`` to the broker (``True``), or call ``fallback`` in this process (``False``).

    The one "the broker is down, do it now" rule: nothing waits for the
    broker to come back, and the fallback's own errors reach the caller.
    """
    if enqueue(task, *args):
        return True
    fallback()
    return False


def _retry(task: Task[Any, Any], error: PusherTransientError, **kwargs: Any) -> Exception:
    limit = max_retries()
    if task.request.retries >= limit:
        logger.error("%s gave up after %d retries: %s", task.name, limit, error)
        return error
    delay = retry_delay(task.request.retries, error)
    logger.warning(
        "%s failed (%s); retry %d in %.1f s", task.name, error, task.request.retries + 1, delay
    )
    return task.retry(exc=error, countdown=delay, max_retries=limit, **kwargs)


def _refuse(task_name: str, error: PusherError) -> PusherError:
    logger.error("%s refused, not retried: %s", task_name, error)
    return error


def _call(task: Task[Any, Any], call: Callable[[], Any]) -> Any:
    """Run one REST call: retry it if transient, refuse it (no retry) otherwise."""
    try:
        return call()
    except PusherTransientError as err:
        raise _retry(task, err) from err
    except PusherError as err:
        raise _refuse(task.name, err) from err


@shared_task(bind=True, name="pusher_django.trigger", max_retries=None)
def trigger(
    self: Task[Any, Any],
    channels: str | list[str],
    event: str,
    data: Any,
    socket_id: str | None = None,
    info: str | list[str] | None = None,
) -> Any:
    client = get_client()
    return _call(
        self, lambda: client.trigger(channels, event, data, socket_id=socket_id, info=info)
    )


def send_in_order(events: list[dict[str, Any]]) -> Iterator[int]:
    """Send events in order, ten per request, yielding how many are sent so far."""
    sent = 0
    while sent < len(events):
        chunk = events[sent : sent + MAX_BATCH_EVENTS]
        send_events(get_client(), chunk)
        sent += len(chunk)
        yield sent


@shared_task(bind=True, name="pusher_django.trigger_batch", max_retries=None)
def trigger_batch(self: Task[Any, Any], events: list[dict[str, Any]]) -> int:
    """Send any number of events in order; returns how many were sent."""
    sent = 0
    try:
        for sent in send_in_order(events):  # noqa: B007
            pass
    except PusherTransientError as err:
        raise _retry(self, err, args=[events[sent:]]) from err
    except PusherError as err:
        raise _refuse(self.name, err) from err
    return sent


#: The outbox tasks read the table, so running one again is harmless; losing one is not.
_OUTBOX_TASK: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
}


@shared_task(name="pusher_django.deliver_outbox", **_OUTBOX_TASK)
def deliver_outbox(using: str = "default") -> int:
    """Send the committed outbox rows; schedules itself again for rows due later."""
    from .outbox.relay import deliver

    report = deliver(using)
    _wake_at(report.next_due, using)
    return report.sent


@shared_task(name="pusher_django.relay_outbox", **_OUTBOX_TASK)
def relay_outbox(using: str = "default") -> int:
    """For Celery beat: deliver what a lost hand-off left, prune, warn about a backlog."""
    from .outbox.runner import relay_pass

    return relay_pass(using).sent


def _wake_at(due: Any, using: str) -> None:
    """Schedule one ``deliver_outbox`` for when the next row is due.

    Every task that finds rows waiting would schedule its own; the cache
    (shared between workers when it is Redis or memcached) keeps it to one
    per second of due time, so a long outage does not pile up wake-ups.
    """
    if due is None:
        return
    from django.core.cache import cache
    from django.utils import timezone

    # Rows due now but not claimed are held by a concurrent claim: look again soon.
    delay = max((due - timezone.now()) / timedelta(seconds=1), 1.0)
    slot = int(timezone.now().timestamp() + delay)
    try:
        first = cache.add(f"pusher_django:outbox:wake:{using}:{slot}", 1, timeout=int(delay) + 60)
    except Exception:
        logger.warning("The cache is unavailable; scheduling an outbox wake-up anyway")
        first = True
    if first:
        enqueue(deliver_outbox, using, countdown=delay)


@shared_task(bind=True, name="pusher_django.terminate_user_connections", max_retries=None)
def terminate_user_connections(self: Task[Any, Any], user_id: str) -> Any:
    return _call(self, lambda: get_client().terminate_user_connections(user_id))


@shared_task(bind=True, name="pusher_django.send_to_user", max_retries=None)
def send_to_user(self: Task[Any, Any], user_id: str, event: str, data: Any) -> Any:
    return _call(self, lambda: get_client().send_to_user(user_id, event, data))


@shared_task(bind=True, name="pusher_django.dispatch_webhook", max_retries=None)
def dispatch_webhook(self: Task[Any, Any], time_ms: int, events: list[dict[str, Any]]) -> int:
    """Webhook events in asynchronous mode; events whose receivers failed are retried."""
    from .webhooks import dispatch

    failures = dispatch(time_ms, events)
    if failures:
        raise _retry(
            self, PusherTransientError(f"{failures} webhook event(s) failed in a receiver")
        )
    return len(events)
