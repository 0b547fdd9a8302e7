"""Testing your broadcasts (docs/reference/testing.md): the test suite runs this test."""

from pusher_django.testing import capture_broadcasts
from tests.testapp.models import Message


def test_posting_broadcasts(db, room):
    with capture_broadcasts() as sent:
        Message.objects.create(room=room, text="hi")
    sent.assert_broadcast(
        "message.created", channel=f"private-encrypted-room-{room.pk}", data={"text": "hi"}
    )  # data: a subset of what was sent
