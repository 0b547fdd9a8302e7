"""Model broadcasting: after commit only, batched in order, with the test helpers."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import RequestFactory

from pusher_django.broadcasting import suppress_broadcasts
from pusher_django.exceptions import PusherValidationError
from pusher_django.middleware import SocketIdMiddleware
from pusher_django.outbox import trigger_on_commit
from pusher_django.testing import capture_broadcasts
from tests.testapp.models import Message, Note, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room():
    return Room.objects.create(name="r")


def test_save_update_delete_broadcast(room):
    with capture_broadcasts() as sent:
        message = Message.objects.create(room=room, text="hi")
        message.text = "edited"
        message.save()
        pk = message.pk
        message.delete()
    channel = f"private-encrypted-room-{room.pk}"
    assert [(e["name"], e["channel"], e["data"]) for e in sent.events] == [
        ("message.created", channel, {"id": pk, "text": "hi"}),
        ("message.updated", channel, {"id": pk, "text": "edited"}),
        ("message.deleted", channel, {"id": pk, "text": "edited"}),
    ]
    sent.assert_broadcast("message.updated", channel=channel, data={"text": "edited"})


def test_one_transaction_is_one_batch_in_order(room):
    with capture_broadcasts() as sent, transaction.atomic():
        for n in range(25):
            Message.objects.create(room=room, text=str(n))
        assert sent.events == []
    assert len(sent.batches) == 1
    assert [e["data"]["text"] for e in sent.batches[0]] == [str(n) for n in range(25)]


def test_rollback_sends_nothing(room):
    with capture_broadcasts() as sent, pytest.raises(RuntimeError), transaction.atomic():
        Message.objects.create(room=room, text="lost")
        raise RuntimeError
    sent.assert_nothing_broadcast()


def test_rolled_back_savepoint_drops_only_its_events(room):
    with capture_broadcasts() as sent, transaction.atomic():
        Message.objects.create(room=room, text="kept-1")
        with pytest.raises(RuntimeError), transaction.atomic():
            Message.objects.create(room=room, text="dropped")
            raise RuntimeError
        Message.objects.create(room=room, text="kept-2")
    assert [e["data"]["text"] for e in sent.events] == ["kept-1", "kept-2"]


def test_defaults_and_should_broadcast():
    with capture_broadcasts() as sent:
        note = Note.objects.create(title="t")
        Note.objects.create(title="hidden", secret=True)
        note.title = "changed"
        note.save()  # "updated" is not in NoteBroadcast.on
    event = sent.assert_broadcast("note.created", count=1)
    assert event["channel"] == f"private-testapp.note.{note.pk}"
    assert event["data"] == {"id": note.pk, "title": "t", "secret": False}


def test_default_data_is_json_safe(room):
    with capture_broadcasts() as sent:
        message = Message.objects.create(room=room, text="x")
    # the DateTimeField became an ISO string
    assert isinstance(message.sent_at.isoformat(), str)
    sent.assert_broadcast("message.created")


def test_suppress_broadcasts_context_and_decorator(room):
    @suppress_broadcasts()
    def bulk_import():
        Message.objects.create(room=room, text="quiet")

    with capture_broadcasts() as sent:
        with suppress_broadcasts():
            Message.objects.create(room=room, text="quiet")
        bulk_import()
        trigger_on_commit("private-x", "explicit", {"n": 1})
    assert [e["name"] for e in sent.events] == ["explicit"]


def test_raw_fixture_saves_do_not_broadcast(room):
    from django.core import serializers

    payload = serializers.serialize("json", [Message(room=room, text="fixture")])
    with capture_broadcasts() as sent:
        for obj in serializers.deserialize("json", payload):
            obj.save()
    sent.assert_nothing_broadcast()


def test_request_socket_id_is_excluded(room):
    def view(request):
        Message.objects.create(room=room, text="mine")
        from django.http import HttpResponse

        return HttpResponse()

    with capture_broadcasts() as sent:
        SocketIdMiddleware(view)(RequestFactory().post("/", headers={"X-Socket-ID": "5.6"}))
    assert sent.events[0]["socket_id"] == "5.6"


def test_bad_event_fails_at_save_time():
    with pytest.raises(PusherValidationError):
        trigger_on_commit("bad channel", "e", {})
    with pytest.raises(PusherValidationError):
        trigger_on_commit("ok", "e", object())


def test_assertion_messages_list_what_was_sent(room):
    with capture_broadcasts() as sent:
        Message.objects.create(room=room, text="x")
    with pytest.raises(AssertionError, match=r"message\.created"):
        sent.assert_broadcast("message.deleted")
    with pytest.raises(AssertionError):
        sent.assert_nothing_broadcast()
