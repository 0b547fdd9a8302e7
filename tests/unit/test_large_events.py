"""Large events sent by reference: decided at save time, sent as an id, read back whole.

The history lookup by id runs on SQLite, PostgreSQL and MariaDB (``DATABASE_URL``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, TestCase
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pusher_django import Broadcast, crypto, signals
from pusher_django.conf import find_problems, get_config
from pusher_django.exceptions import PusherValidationError
from pusher_django.history import catch_up
from pusher_django.listener.references import resolved
from pusher_django.models import Delivery
from pusher_django.notices import Notice, event_received
from pusher_django.outbox import make_event, relay, trigger_on_commit
from pusher_django.outbox.events import wire_data
from pusher_django.payloads import encode_event_data
from tests.testapp.models import Message, Room, Score

pytestmark = pytest.mark.django_db
URL = "/pusher/history/"
LIMIT = 10240
PLAIN, ENCRYPTED = "private-room-1", "private-encrypted-room-1"
BIG = {"text": "x" * 100_000}


def lookup(client: Client, channel: str, event_id: Any, **params: Any) -> Any:
    return client.get(URL, {"channel": channel, "id": event_id, **params})


def save(channel: str, data: Any, *, by_reference: bool = True, name: str = "big") -> Delivery:
    with TestCase.captureOnCommitCallbacks(execute=False), transaction.atomic():
        trigger_on_commit(channel, name, data, by_reference=by_reference)
    return Delivery.objects.order_by("-id").first()  # type: ignore[return-value]


def mark_sent(*rows: Delivery) -> None:
    from django.utils import timezone

    Delivery.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=Delivery.Status.SENT, sent_at=timezone.now()
    )


def on_the_wire(row: Delivery) -> str:
    """The ``data`` the relay sends for ``row``, encrypted where the channel is."""
    event = relay._event(row, "_pusher_id")
    config = get_config()
    return encode_event_data(
        [row.channel],
        event["data"],
        master_key=config.encryption_master_key,
        max_bytes=config.max_payload_bytes,
    )


@pytest.mark.parametrize("channel", [PLAIN, ENCRYPTED])
def test_an_event_over_the_limit_is_stored_whole_and_sent_as_its_id(
    channel: str, handoffs: list[Any]
) -> None:
    row = save(channel, BIG)
    assert row.is_reference
    assert json.loads(row.data) == BIG
    wire = on_the_wire(row)
    reference = {"_pusher_id": row.pk, "_pusher_ref": row.pk}
    if channel == ENCRYPTED:
        assert "_pusher" not in wire  # "_" is not in base64's alphabet: a plaintext key would show
        plaintext = crypto.decrypt(channel, wire, get_config().encryption_master_key)  # type: ignore[arg-type]
        assert json.loads(plaintext) == reference
    else:
        assert json.loads(wire) == reference
    assert len(wire.encode()) < 200


def test_a_small_event_saved_by_reference_is_sent_as_usual(handoffs: list[Any]) -> None:
    row = save(PLAIN, {"text": "hi"})
    assert not row.is_reference
    assert json.loads(on_the_wire(row)) == {"_pusher_id": row.pk, "text": "hi"}


def test_without_by_reference_an_oversize_event_is_refused_as_before(handoffs: list[Any]) -> None:
    with pytest.raises(PusherValidationError, match=r"the limit is 10240 \(PUSHER\['MAX_PAYL"):
        save(ENCRYPTED, BIG, by_reference=False)
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("channel", [PLAIN, ENCRYPTED])
def test_data_over_max_reference_bytes_is_refused_at_save_time(
    channel: str, settings: Any, handoffs: list[Any]
) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"MAX_REFERENCE_BYTES": 50_000}}
    with pytest.raises(
        PusherValidationError,
        match=r"Event data is 100011 bytes; the limit is 50000 "
        r"\(PUSHER\['OUTBOX'\]\['MAX_REFERENCE_BYTES'\]\)",
    ):
        save(channel, BIG)
    assert not Delivery.objects.exists()


def test_the_marker_key_is_reserved(handoffs: list[Any]) -> None:
    with pytest.raises(PusherValidationError, match="_pusher_ref"):
        make_event(PLAIN, "e", {"_pusher_ref": 1})


class BigBroadcast(Broadcast):
    by_reference = True

    def channels(self, instance: Any, action: Any) -> list[str]:
        return [f"private-encrypted-room-{instance.room_id}"]

    def data(self, instance: Any, action: Any) -> dict[str, Any]:
        return {"id": instance.pk, "text": instance.text * 400}


class RefusingBroadcast(BigBroadcast):
    by_reference = False


def test_a_broadcast_opts_in_with_by_reference(handoffs: list[Any]) -> None:
    message = Message.objects.create(room=Room.objects.create(name="r"), text="y" * 100)
    Delivery.objects.all().delete()  # the test app's own broadcast of the message
    with TestCase.captureOnCommitCallbacks(execute=False), transaction.atomic():
        BigBroadcast().handle(message, "created")
    row = Delivery.objects.get()
    assert row.is_reference
    assert json.loads(row.data)["text"] == "y" * 40_000
    with pytest.raises(PusherValidationError):
        RefusingBroadcast().handle(message, "created")


class BigScoreBroadcast(Broadcast):
    coalesce = True
    by_reference = True

    def channels(self, instance: Any, action: Any) -> list[str]:
        return ["private-scores"]

    def data(self, instance: Any, action: Any) -> dict[str, Any]:
        return {"points": instance.points, "log": "z" * (6000 * instance.points)}


def test_a_merged_event_that_grew_over_the_limit_goes_by_reference(handoffs: list[Any]) -> None:
    score = Score.objects.create(player="ann", points=1)
    Delivery.objects.all().delete()  # the test app's own broadcast of the score
    broadcast = BigScoreBroadcast()
    with TestCase.captureOnCommitCallbacks(execute=False), transaction.atomic():
        broadcast.handle(score, "created")
        assert not Delivery.objects.get().is_reference
        score.points = 3
        broadcast.handle(score, "updated")
    row = Delivery.objects.get()
    assert row.is_reference
    assert json.loads(row.data)["points"] == 3


def test_the_reference_limit_must_be_above_the_payload_limit(settings: Any) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"MAX_REFERENCE_BYTES": 10240}}
    assert [p.id for p in find_problems()] == ["pusher_django.W004"]
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"MAX_REFERENCE_BYTES": 0}}
    assert [p.id for p in find_problems()] == ["pusher_django.E025"]


_WIDEST = 2**63 - 1


@hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    size=st.integers(LIMIT - 400, LIMIT + 400),
    channel=st.sampled_from([PLAIN, ENCRYPTED]),
    text=st.sampled_from(["x", "é", "\u263a", '"']),
)
def test_around_the_limit_an_event_is_sent_whole_exactly_when_it_fits(
    size: int, channel: str, text: str
) -> None:
    """Whole when the widest id fits once encrypted; otherwise a reference, which always fits."""
    data = {"text": (text * size)[: size // len(text.encode())]}
    event = make_event(channel, "e", data, by_reference=True)
    master_key = get_config().encryption_master_key
    whole = json.loads(wire_data(event.data, True, _WIDEST, "_pusher_id"))
    if event.is_reference:
        with pytest.raises(PusherValidationError):
            encode_event_data([channel], whole, master_key=master_key, max_bytes=LIMIT)
        reference = {"_pusher_id": _WIDEST, "_pusher_ref": _WIDEST}
        encode_event_data([channel], reference, master_key=master_key, max_bytes=LIMIT)
    else:
        encode_event_data([channel], whole, master_key=master_key, max_bytes=LIMIT)
    refused = None
    try:
        make_event(channel, "e", data)
    except PusherValidationError as err:
        refused = err
    assert (refused is not None) == event.is_reference


# -- the history endpoint's lookup by id ---------------------------------------------------


@pytest.mark.parametrize("channel", [PLAIN, ENCRYPTED])
def test_an_allowed_user_reads_the_whole_event_by_id(
    channel: str, member: Client, handoffs: list[Any]
) -> None:
    row = save(channel, BIG)
    answer = lookup(member, channel, row.pk)  # pending: not yet marked sent
    assert answer.status_code == 200
    assert answer.json() == {
        "channel": channel,
        "event": {"id": row.pk, "event": "big", "data": {"_pusher_id": row.pk, **BIG}},
    }
    mark_sent(row)
    assert lookup(member, channel, row.pk).json()["event"]["id"] == row.pk


def test_a_user_who_may_not_subscribe_is_refused_whatever_the_id(
    outsider: Client, handoffs: list[Any]
) -> None:
    row = save(PLAIN, BIG)
    mark_sent(row)
    for event_id in (row.pk, row.pk + 1000, 1):
        answer = lookup(outsider, PLAIN, event_id)
        assert (answer.status_code, answer.json()) == (403, {"error": "Forbidden."})
    assert lookup(Client(), PLAIN, row.pk).status_code == 403


def test_a_gone_event_and_another_channels_event_answer_the_same(
    member: Client, handoffs: list[Any]
) -> None:
    other = save("private-room-2", BIG)
    gone = save(PLAIN, BIG)
    kept = save(PLAIN, {"text": "newest"})
    mark_sent(other, gone, kept)
    gone_id = gone.pk
    gone.delete()
    answers = [lookup(member, PLAIN, pk) for pk in (gone_id, other.pk)]
    assert [(a.status_code, a.json()) for a in answers] == [
        (410, {"error": "The event is no longer retained (OUTBOX['RETENTION'])."})
    ] * 2
    never = lookup(member, PLAIN, kept.pk + 10)
    assert (never.status_code, never.json()) == (404, {"error": "No such event."})


@pytest.mark.parametrize(
    "channel", ["PRIVATE-room-1", "Private-room-1", "private-room-10", "room-1"]
)
def test_the_channel_compares_exactly(channel: str, member: Client, handoffs: list[Any]) -> None:
    """A public-looking variant of the name never reads the private channel's row."""
    row = save(PLAIN, BIG)
    mark_sent(row)
    answer = lookup(Client(), channel, row.pk)
    assert answer.status_code in (400, 403, 410)
    assert "xxx" not in answer.content.decode()


@pytest.mark.parametrize(
    "params",
    [{"id": "0"}, {"id": "-1"}, {"id": "1.5"}, {"id": ""}, {"id": "1", "after": "0"}, {"id": "x"}],
)
def test_a_malformed_lookup_is_a_400(params: dict[str, str], member: Client) -> None:
    assert member.get(URL, {"channel": PLAIN, **params}).status_code == 400


def test_a_catch_up_lists_a_large_event_as_its_reference(handoffs: list[Any]) -> None:
    first = save(PLAIN, {"text": "small"})
    big = save(PLAIN, BIG)
    mark_sent(first, big)
    answer = catch_up(PLAIN, 0)
    assert [event["data"] for event in answer.events] == [
        {"_pusher_id": first.pk, "text": "small"},
        {"_pusher_id": big.pk, "_pusher_ref": big.pk},
    ]


# -- the listener ----------------------------------------------------------------------------


def test_the_listener_resolves_a_reference_from_the_row(handoffs: list[Any]) -> None:
    row = save(ENCRYPTED, BIG)
    reference = {"_pusher_id": row.pk, "_pusher_ref": row.pk}
    notice = resolved(event_received(ENCRYPTED, "big", reference, None))
    assert notice is not None
    assert notice.signal is signals.event_received
    assert notice.kwargs == {
        "channel": ENCRYPTED,
        "event": "big",
        "data": {"_pusher_id": row.pk, **BIG},
        "user_id": None,
        "source": "listener",
    }


def test_the_listener_drops_a_reference_it_cannot_resolve(handoffs: list[Any]) -> None:
    row = save(ENCRYPTED, BIG)
    reference = {"_pusher_ref": row.pk}
    forged = event_received(ENCRYPTED, "client-big", reference, None)  # a member's client event
    assert resolved(forged) is forged
    assert resolved(event_received("private-encrypted-room-2", "big", reference, None)) is None
    row.delete()
    assert resolved(event_received(ENCRYPTED, "big", reference, None)) is None


@pytest.mark.parametrize(
    "data", [{"text": "x"}, {"_pusher_ref": True}, {"_pusher_ref": "3"}, [1], "s", None]
)
def test_other_notices_pass_unchanged(data: Any) -> None:
    notice = event_received(PLAIN, "e", data, None)
    assert resolved(notice) is notice
    other = Notice(signals.cache_miss, {"channel": PLAIN, "source": "listener"})
    assert resolved(other) is other
