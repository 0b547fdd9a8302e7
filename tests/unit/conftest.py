"""Fixtures shared by the unit tests: the outbox hand-off (sync and async), signed-in users."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from pusher_django import tasks

from .helpers import celery_hand_off


@pytest.fixture
def handoffs(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[tuple[Any, ...]]:
    """The tasks the after-commit hand-off enqueues (the broker is not under test here).

    The hand-off under test is the Celery one (``SEND_AT_COMMIT`` off);
    test_outbox_sender.py covers sending at commit.
    """
    celery_hand_off(settings)
    sent: list[tuple[Any, ...]] = []

    def enqueue(task: Any, *args: Any, countdown: float | None = None) -> bool:
        sent.append((task.name, *args))
        return True

    monkeypatch.setattr(tasks, "enqueue", enqueue)
    return sent


@pytest.fixture
def member(db: Any) -> Client:
    """A signed-in user whom the test app's rules let read ``private-room-*``."""
    client = Client()
    client.force_login(User.objects.create_user("member", password="pw"))
    return client


@pytest.fixture
def outsider(db: Any) -> Client:
    """A signed-in user whom those rules refuse."""
    client = Client()
    client.force_login(User.objects.create_user("outsider", password="pw"))
    return client
