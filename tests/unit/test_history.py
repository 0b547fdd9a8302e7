"""``pusher/history/``: every missed event or an explicit "not recovered", authorized like a
subscription, on exactly the channel asked for (run on SQLite, PostgreSQL and MariaDB)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pusher_django.exceptions import PusherValidationError
from pusher_django.history import catch_up, position, positions
from pusher_django.models import Delivery
from pusher_django.outbox import relay

pytestmark = pytest.mark.django_db
URL = "/pusher/history/"
SENT, PENDING, FAILED = Delivery.Status.SENT, Delivery.Status.PENDING, Delivery.Status.FAILED
#: Every kind that needs authorization, and a variant of it that reads as a public name.
PROTECTED = [
    ("private-room-1", "PRIVATE-room-1"),
    ("private-room-1", "Private-room-1"),
    ("private-encrypted-room-5", "PRIVATE-ENCRYPTED-room-5"),
    ("private-encrypted-room-5", "Private-Encrypted-Room-5"),
    ("presence-room-7", "Presence-room-7"),
    ("presence-room-7", "PRESENCE-ROOM-7"),
]


def sent(
    channel: str,
    *texts: str,
    status: str = SENT,
    seconds: float = 0,
    name: str = "message.created",
    socket_id: str = "",
) -> list[int]:
    when = timezone.now() + timedelta(seconds=seconds)
    rows = Delivery.objects.bulk_create(
        Delivery(
            channel=channel,
            name=name,
            data=f'{{"text":"{text}"}}',
            data_is_object=True,
            socket_id=socket_id,
            status=status,
            sent_at=when if status == SENT else None,
        )
        for text in texts
    )
    return [row.pk for row in rows]


def get(client: Client, channel: str, **params: Any) -> Any:
    return client.get(URL, {"channel": channel, **params})


def ids(answer: dict[str, Any]) -> list[int]:
    return [event["id"] for event in answer["events"]]


def test_without_after_it_answers_the_position_to_resume_from(member: Client) -> None:
    kept = sent("private-room-1", "a", "b")
    answer = get(member, "private-room-1").json()
    assert answer == {
        "channel": "private-room-1",
        "position": kept[-1],
        "recovered": True,
        "reason": None,
        "events": [],
    }
    assert get(member, "private-room-2").json()["position"] == 0


def test_events_after_a_position_in_the_order_they_were_sent(member: Client) -> None:
    first, *rest = sent("private-room-1", "a", "b", "c", "d")
    sent("private-room-1", "queued", status=PENDING)
    sent("private-room-1", "refused", status=FAILED)
    sent("private-room-9", "elsewhere")
    answer = get(member, "private-room-1", after=first).json()
    assert (answer["recovered"], answer["reason"], ids(answer)) == (True, None, rest)
    assert answer["position"] == rest[-1]
    assert answer["events"][0] == {
        "id": rest[0],
        "event": "message.created",
        "data": {"_pusher_id": rest[0], "text": "b"},
    }


def test_nothing_new_keeps_the_position(member: Client) -> None:
    (last,) = sent("private-room-1", "a")
    answer = get(member, "private-room-1", after=last).json()
    assert (answer["recovered"], answer["events"], answer["position"]) == (True, [], last)


def test_a_gap_longer_than_the_limit_is_too_many_and_returns_nothing(member: Client) -> None:
    first, *rest = sent("private-room-1", *"abcdef")
    answer = get(member, "private-room-1", after=first, limit=4).json()
    assert answer == {
        "channel": "private-room-1",
        "position": rest[-1],
        "recovered": False,
        "reason": "too_many",
        "events": [],
    }
    assert ids(get(member, "private-room-1", after=first, limit=5).json()) == rest


def test_an_event_of_an_overlapping_transaction_sent_later_is_not_missed(member: Client) -> None:
    """Id 19 committed after id 20 was sent: the page that saw 20 still gets 19."""
    early, late = sent("private-room-1", "early", "late")
    Delivery.objects.filter(pk=early).update(sent_at=timezone.now() + timedelta(seconds=5))
    answer = get(member, "private-room-1", after=late).json()
    assert (ids(answer), answer["position"]) == ([early], early)
    assert position("private-room-1") == early  # the last one sent, not the largest id


def test_a_pruned_position_is_too_old(member: Client, settings: Any) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"RETENTION": 60}}
    old = sent("private-room-1", "old", seconds=-120)
    kept = sent("private-room-1", "kept")
    assert relay.prune() == 1
    answer = get(member, "private-room-1", after=old[0]).json()
    assert (answer["recovered"], answer["reason"]) == (False, "too_old")
    assert (answer["events"], answer["position"]) == ([], kept[0])


def test_position_zero_taken_longer_ago_than_the_retention_is_too_old(
    member: Client, settings: Any
) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"RETENTION": 60}}
    kept = sent("private-room-1", "kept")
    assert ids(get(member, "private-room-1", after=0, age=59).json()) == kept
    answer = get(member, "private-room-1", after=0, age=60).json()
    assert (answer["recovered"], answer["reason"], answer["events"]) == (False, "too_old", [])


def test_a_position_that_is_not_this_channels_sent_event_is_unknown(member: Client) -> None:
    (other,) = sent("private-room-9", "other")
    (pending,) = sent("private-room-1", "queued", status=PENDING)
    for after in (other, pending, pending + 1000):
        answer = get(member, "private-room-1", after=after).json()
        assert (answer["recovered"], answer["reason"]) == (False, "unknown_position"), after
        assert answer["events"] == []


def test_events_the_pages_own_sockets_caused_are_not_replayed(member: Client) -> None:
    first, *_ = sent("private-room-1", "before")
    (mine,) = sent("private-room-1", "mine", socket_id="1.1")
    (earlier,) = sent("private-room-1", "from my previous socket", socket_id="2.2")
    (theirs,) = sent("private-room-1", "theirs", socket_id="3.3")
    answer = get(member, "private-room-1", after=first, socket_id=["1.1", "2.2"]).json()
    assert ids(answer) == [theirs]
    assert answer["position"] == theirs
    assert ids(get(member, "private-room-1", after=first).json()) == [mine, earlier, theirs]


def test_no_reserved_event_name_ever_comes_out(member: Client) -> None:
    first, *_ = sent("private-room-1", "start")
    sent("private-room-1", "x", name="pusher:subscription_succeeded")
    sent("private-room-1", "x", name="pusher_internal:member_added")
    (kept,) = sent("private-room-1", "kept", name="pusher-like:fine")
    assert ids(get(member, "private-room-1", after=first).json()) == [kept]
    assert ids(get(member, "private-room-1", after=0).json()) == [first, kept]


def test_data_that_is_not_an_object_is_recovered_with_its_event_id(member: Client) -> None:
    rows = Delivery.objects.bulk_create(
        Delivery(channel="news", name="tick", data=data, status=SENT, sent_at=timezone.now())
        for data in ('"text"', "[1,2]", "42", "not json")
    )
    answer = get(Client(), "news", after=0).json()
    assert [(e["id"], e["data"]) for e in answer["events"]] == list(
        zip([row.pk for row in rows], ["text", [1, 2], 42, "not json"], strict=True)
    )


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


@pytest.mark.parametrize(
    "user_id", ["tests.unit.test_hostile_input.no_id", "tests.unit.test_hostile_input.blank_id"]
)
def test_presence_history_needs_a_user_id_as_subscribing_does(
    member: Client, settings: Any, user_id: str
) -> None:
    sent("presence-room-7", "members only")
    assert get(member, "presence-room-7", after=0).status_code == 200
    settings.PUSHER = {**settings.PUSHER, "AUTH": {"PRESENCE_USER_ID": user_id}}
    assert get(member, "presence-room-7", after=0).status_code == 403
    subscribing = member.post(
        "/pusher/auth/", {"socket_id": "1.2", "channel_name": "presence-room-7"}
    )
    assert subscribing.status_code == 403


@pytest.mark.parametrize(("stored", "asked"), PROTECTED)
def test_another_case_of_a_protected_name_gets_nothing_of_it(
    member: Client, stored: str, asked: str
) -> None:
    """The MariaDB hole: ``PRIVATE-room-1`` is a public name, and must stay a different one."""
    (secret,) = sent(stored, "secret")
    (public,) = sent(asked, "public")
    for client in (Client(), member):
        answer = get(client, asked, after=0).json()
        assert (ids(answer), answer["position"]) == ([public], public)
        assert get(client, asked).json()["position"] == public
        assert get(client, asked, after=secret).json()["reason"] == "unknown_position"
    Delivery.objects.filter(pk=public).delete()
    answer = get(Client(), asked, after=0).json()
    assert (answer["events"], answer["position"]) == ([], 0)
    assert "secret" not in get(Client(), asked, after=0).content.decode()
    assert positions([asked, stored]) == {asked: 0, stored: secret}
    assert catch_up(asked, 0).events == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"channel": "bad name"},
        {"channel": "news", "after": "-1"},
        {"channel": "news", "after": "+1"},
        {"channel": "news", "after": " 1"},
        {"channel": "news", "after": "1\n"},
        {"channel": "news", "after": "1e9"},
        {"channel": "news", "after": "9" * 40},
        {"channel": "news", "after": "١٢"},  # Arabic-Indic digits: int() reads them
        {"channel": "news", "after": "²"},  # a superscript: isdigit() but not int()
        {"channel": "news", "after": "\uff11"},  # fullwidth
        {"channel": "news", "limit": "0"},
        {"channel": "news", "limit": "501"},
        {"channel": "news", "limit": "٣"},
        {"channel": "news", "after": "0", "age": "٣"},
        {"channel": "news", "after": "0", "socket_id": "1.x"},
        {"channel": "news", "after": "0", "socket_id": ["1.1"] * 11},
    ],
)
def test_bad_parameters_are_400(params: dict[str, str]) -> None:
    assert Client().get(URL, params).status_code == 400


def test_only_get(db: Any) -> None:
    assert Client().post(URL, {"channel": "news"}).status_code == 405


_ALPHABET = "abcNPRIVATEprivate-encryptedpresence_=@,;.0123456789 ١²%&+#"
_names = st.sampled_from(
    ["news", "NEWS", "private-room-1", "PRIVATE-room-1", "Presence-room-7", "presence-room-7"]
) | st.text(alphabet=_ALPHABET, max_size=40)
_values = st.text(alphabet=_ALPHABET, max_size=25) | st.integers(-5, 2**64).map(str)
_params = st.lists(
    st.tuples(st.sampled_from(["channel", "after", "limit", "age", "socket_id", "x"]), _values),
    max_size=6,
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(channel=_names, params=_params)
def test_any_query_string_is_answered_without_5xx_or_another_channels_events(
    channel: str, params: list[tuple[str, str]]
) -> None:
    if not Delivery.objects.exists():
        for name in ("private-room-1", "private-encrypted-room-5", "presence-room-7", "news"):
            sent(name, f"only-{name}")
    response = Client().get(URL + "?" + urlencode([("channel", channel), *params]))
    assert response.status_code in (200, 400, 403)
    if response.status_code == 200:
        answer = response.json()
        asked = [value for key, value in [("channel", channel), *params] if key == "channel"]
        assert all(event["data"]["text"] == f"only-{asked[-1]}" for event in answer["events"])
        assert answer["channel"] == asked[-1]


def test_the_positions_tag_writes_each_channels_position_for_recover(db: Any) -> None:
    from django.template import Context, Template

    (news,) = sent("news", "a")
    sent("PRIVATE-room-1", "other case")
    taken = positions(["private-room-1"])
    html = Template('{% load pusher_django %}{% pusher_positions taken "news" "empty" %}').render(
        Context({"taken": taken})
    )
    assert html == (
        '<script id="pusher-django-positions" type="application/json">'
        f'{{"private-room-1": 0, "news": {news}, "empty": 0}}</script>'
    )
    with pytest.raises(PusherValidationError):
        Template('{% load pusher_django %}{% pusher_positions "bad name" %}').render(Context())


def test_the_docs_view_takes_the_positions_before_the_data(db: Any) -> None:
    """``docs/examples/recovery_view.py``, run as docs/recovery.md shows it."""
    import runpy
    from pathlib import Path

    from django.test import RequestFactory

    from tests.testapp.models import Message, Room

    example = Path(__file__).parents[2] / "docs" / "examples" / "recovery_view.py"
    room = runpy.run_path(str(example), init_globals={"Message": Message})["room"]
    pk = Room.objects.create(name="r").pk
    (last,) = sent(f"private-encrypted-room-{pk}", "hello")
    rendered: dict[str, Any] = {}
    room.__globals__["render"] = lambda request, name, context: rendered.update(context)
    room(RequestFactory().get("/"), pk)
    assert rendered == {"messages": [], "positions": {f"private-encrypted-room-{pk}": last}}
