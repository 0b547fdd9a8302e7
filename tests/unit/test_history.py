"""``pusher/history/``: the events a page missed, authorized like a subscription."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from pusher_django.models import Delivery
from pusher_django.outbox import relay

pytestmark = pytest.mark.django_db
URL = "/pusher/history/"
SENT, PENDING, FAILED = Delivery.Status.SENT, Delivery.Status.PENDING, Delivery.Status.FAILED


@pytest.fixture
def member(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("member", password="pw"))
    return client


@pytest.fixture
def outsider(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("outsider", password="pw"))
    return client


def sent(channel: str, *texts: str, status: str = SENT, seconds: float = 0) -> list[int]:
    when = timezone.now() + timedelta(seconds=seconds)
    rows = Delivery.objects.bulk_create(
        Delivery(
            channel=channel,
            name="message.created",
            data=f'{{"text":"{text}"}}',
            data_is_object=True,
            status=status,
            sent_at=when if status == SENT else None,
        )
        for text in texts
    )
    return [row.pk for row in rows]


def get(client: Client, channel: str, **params: Any) -> Any:
    return client.get(URL, {"channel": channel, **params})


def test_without_after_it_answers_the_position_to_resume_from(member: Client) -> None:
    ids = sent("private-room-1", "a", "b")
    answer = get(member, "private-room-1").json()
    assert answer == {
        "channel": "private-room-1",
        "events": [],
        "last_id": ids[-1],
        "more": False,
        "expired": False,
    }
    assert get(member, "private-room-2").json()["last_id"] == 0


def test_events_after_an_id_in_the_order_they_were_sent_with_their_ids(member: Client) -> None:
    first, *rest = sent("private-room-1", "a", "b", "c", "d")
    sent("private-room-1", "queued", status=PENDING)
    sent("private-room-1", "refused", status=FAILED)
    sent("private-room-9", "elsewhere")
    answer = get(member, "private-room-1", after=first).json()
    assert [e["id"] for e in answer["events"]] == rest
    assert answer["events"][0] == {
        "id": rest[0],
        "event": "message.created",
        "data": {"_pusher_id": rest[0], "text": "b"},
    }
    assert [e["data"]["text"] for e in answer["events"]] == ["b", "c", "d"]


def test_limit_and_more(member: Client) -> None:
    first, *rest = sent("private-room-1", *"abcdef")
    page = get(member, "private-room-1", after=first, limit=2).json()
    assert ([e["id"] for e in page["events"]], page["more"]) == (rest[:2], True)
    page = get(member, "private-room-1", after=rest[1], limit=10).json()
    assert ([e["id"] for e in page["events"]], page["more"]) == (rest[2:], False)


def test_an_event_of_an_overlapping_transaction_sent_later_is_not_missed(member: Client) -> None:
    """Id 19 committed after id 20 was sent: the page that saw 20 still gets 19."""
    early, late = sent("private-room-1", "early", "late")
    Delivery.objects.filter(pk=early).update(sent_at=timezone.now() + timedelta(seconds=5))
    answer = get(member, "private-room-1", after=late).json()
    assert [e["id"] for e in answer["events"]] == [early]


def test_after_an_id_older_than_the_retention_says_so(member: Client, settings: Any) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"RETENTION": 60}}
    old = sent("private-room-1", "old", seconds=-120)
    kept = sent("private-room-1", "kept")
    assert relay.prune() == 1
    answer = get(member, "private-room-1", after=old[0]).json()
    assert (answer["expired"], answer["events"], answer["last_id"]) == (True, [], kept[0])


def test_authorized_exactly_like_subscribing(member: Client, outsider: Client) -> None:
    sent("private-room-1", "for members")  # the test rule: only "member" (or room "open")
    sent("private-encrypted-room-5", "secret")
    sent("presence-room-closed", "nobody")
    assert get(outsider, "private-room-1", after=0).status_code == 403
    assert get(Client(), "private-room-1", after=0).status_code == 403  # anonymous
    assert get(member, "presence-room-closed", after=0).status_code == 403
    encrypted = get(outsider, "private-encrypted-room-5", after=0).json()
    assert encrypted["events"][0]["data"]["text"] == "secret"  # decrypted for who may join
    assert get(member, "private-room-1", after=0).json()["events"][0]["data"]["text"] == (
        "for members"
    )


def test_public_channels_are_public(db: Any) -> None:
    sent("news", "hello")
    assert get(Client(), "news", after=0).json()["events"][0]["data"]["text"] == "hello"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"channel": "bad name"},
        {"channel": "news", "after": "-1"},
        {"channel": "news", "after": "1e9"},
        {"channel": "news", "after": "9" * 40},
        {"channel": "news", "limit": "0"},
        {"channel": "news", "limit": "501"},
    ],
)
def test_bad_parameters_are_400(params: dict[str, str]) -> None:
    assert Client().get(URL, params).status_code == 400


def test_only_get(db: Any) -> None:
    assert Client().post(URL, {"channel": "news"}).status_code == 405
