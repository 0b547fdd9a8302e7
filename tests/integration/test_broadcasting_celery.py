"""Model broadcasts through Redis and a real Celery worker to soketi and pusher-js."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from pusher_django.outbox import trigger_on_commit
from tests.support.auth import local_authorizer
from tests.testapp.models import Message, Room

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def room_subscriber(broadcasting, pusher_js):
    room = Room.objects.create(name="r")
    client = pusher_js(authorizer=local_authorizer())
    client.subscribed(f"private-encrypted-room-{room.pk}")
    return room, client


def texts(client, event="message.created"):
    return [r["data"]["text"] for r in client.find("event", event=event)]


def test_25_saves_in_one_transaction_arrive_in_order_in_3_requests(room_subscriber, broadcasting):
    room, client = room_subscriber
    with transaction.atomic():
        for n in range(25):
            Message.objects.create(room=room, text=f"m{n}")
    client.wait_for_count("event", 25, timeout=20, event="message.created")
    assert texts(client) == [f"m{n}" for n in range(25)]
    requests = broadcasting.posts("/batch_events") + broadcasting.posts("/events")
    assert requests <= 3


def test_rollback_never_arrives_and_updates_deletes_do(room_subscriber):
    room, client = room_subscriber
    with pytest.raises(RuntimeError), transaction.atomic():
        Message.objects.create(room=room, text="rolled back")
        raise RuntimeError
    message = Message.objects.create(room=room, text="kept")
    message.text = "edited"
    message.save()
    message.delete()
    client.wait_for("event", event="message.deleted", timeout=15)
    assert texts(client) == ["kept"]
    assert texts(client, "message.updated") == ["edited"]
    assert "rolled back" not in str(client.find("event"))


def test_events_saved_while_pusher_is_unreachable_are_delivered(room_subscriber, broadcasting):
    room, client = room_subscriber
    broadcasting.down = True
    for n in range(10):
        Message.objects.create(room=room, text=f"offline{n}")
    trigger_on_commit(f"private-encrypted-room-{room.pk}", "message.created", {"text": "helper"})
    time.sleep(3)
    assert broadcasting.refused > 0
    assert client.find("event") == []
    broadcasting.down = False
    client.wait_for_count("event", 11, timeout=30, event="message.created")
    time.sleep(1)
    received = texts(client)
    assert sorted(received) == sorted([f"offline{n}" for n in range(10)] + ["helper"])
