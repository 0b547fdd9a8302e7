"""The listener hands ``event_received`` receivers the whole data of a large event.

Real soketi; the outbox's relay sends the reference, the listener's dispatcher
reads the row it names. A pusher-js client beside it shows what the channel
carried: only the id and the marker (on the encrypted channel, once pusher-js
decrypted it; that the ciphertext is of nothing more is tests/unit/test_large_events.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from pusher_django.conf import get_config
from pusher_django.listener import Listener
from pusher_django.models import Delivery
from pusher_django.outbox import relay, trigger_on_commit
from pusher_django.outbox.writer import capturing
from tests.support.auth import local_authorizer
from tests.support.signals import SignalRecorder, record_signals

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("soketi_settings"),
    pytest.mark.django_db(transaction=True),
]

BIG = "x" * 100_000


@pytest.fixture
def recorder() -> Iterator[SignalRecorder]:
    with record_signals() as rec:
        yield rec


@pytest.mark.parametrize("channel", ["private-room-big-l", "private-encrypted-room-big-l"])
def test_the_listener_receives_a_100_kb_event_whole_between_small_ones(
    channel: str, recorder: SignalRecorder, pusher_js: Any
) -> None:
    listener = Listener([channel], config=get_config())
    listener.start()
    try:
        assert listener.wait_connected(10)
        recorder.wait_for("subscription_succeeded", channel=channel)
        page = pusher_js(authorizer=local_authorizer("ann"))
        page.subscribed(channel)
        with capturing(), transaction.atomic():
            for n, text in enumerate(["a", BIG, "b"]):
                trigger_on_commit(channel, "note", {"n": n, "text": text}, by_reference=True)
        assert relay.deliver().sent == 3
        heard = recorder.wait_for("event_received", channel=channel, count=3)
        ids = list(Delivery.objects.order_by("id").values_list("id", flat=True))
        assert [event["data"] for event in heard] == [
            {"_pusher_id": ids[0], "n": 0, "text": "a"},
            {"_pusher_id": ids[1], "n": 1, "text": BIG},
            {"_pusher_id": ids[2], "n": 2, "text": "b"},
        ]
        seen = page.wait_for_count("event", 3, event="note", channel=channel)
        reference = {"_pusher_id": ids[1], "_pusher_ref": ids[1]}
        assert [report["data"] for report in seen][1] == reference
    finally:
        listener.stop()
