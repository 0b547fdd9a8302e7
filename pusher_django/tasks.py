"""Celery tasks that call the Pusher REST API, with retries for transient failures.

Arguments are plain JSON so any serializer works. Transient failures
(network, timeouts, 5xx, 429) are retried with exponential backoff and full
jitter, honouring ``Retry-After``; bad input (4xx) is logged and not retried.
``trigger_batch`` takes any number of events and sends them in order, ten per
request; a retry resends only the events not yet accepted, so a transaction's
events are never reordered and rarely duplicated (Celery delivers tasks at
least once: a worker killed mid-task may resend the chunk it was sending).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

from celery import Task, shared_task

from .client import MAX_BATCH_EVENTS, get_client
from .conf import section
from .exceptions import PusherError, PusherTransientError

logger = logging.getLogger(__name__)


def enqueue(task: Task[Any, Any], *args: Any) -> bool:
    """Send a task to ``PUSHER["CELERY"]["QUEUE"]``; ``False`` (logged) if the broker failed.

    Callers fall back to doing the work in-process, so a broker outage
    delays nothing and loses nothing.
    """
    queue = section("CELERY")["QUEUE"]
    try:
        task.apply_async(args=args, **({"queue": queue} if queue else {}))
    except Exception:
        logger.exception("Could not enqueue %s; the caller falls back to running it now", task.name)
        return False
    return True


def retry_delay(retries: int, error: PusherTransientError) -> float:
    options = section("CELERY")
    cap = float(options["RETRY_BACKOFF_MAX"])
    delay: float = random.uniform(0, min(cap, float(options["RETRY_BACKOFF"]) * 2**retries))  # noqa: S311
    if error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


def _retry(task: Task[Any, Any], error: PusherTransientError, **kwargs: Any) -> Exception:
    max_retries = int(section("CELERY")["MAX_RETRIES"])
    if task.request.retries >= max_retries:
        logger.error("%s gave up after %d retries: %s", task.name, max_retries, error)
        return error
    delay = retry_delay(task.request.retries, error)
    logger.warning(
        "%s failed (%s); retry %d in %.1f s", task.name, error, task.request.retries + 1, delay
    )
    return task.retry(exc=error, countdown=delay, max_retries=max_retries, **kwargs)


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
        if len(chunk) == 1:
            event = chunk[0]
            get_client().trigger(
                event["channel"], event["name"], event["data"], socket_id=event.get("socket_id")
            )
        else:
            get_client().trigger_batch(chunk)
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
