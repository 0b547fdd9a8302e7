"""Pure pieces of the listener: frames, close-code rules, backoff, pacing, member diffs."""

from __future__ import annotations

import json
import random

import pytest

from pusher_django.exceptions import ProtocolError
from pusher_django.listener import protocol
from pusher_django.listener.backoff import Backoff
from pusher_django.listener.pacing import RateWindow
from pusher_django.listener.protocol import CloseAction
from pusher_django.listener.subscriptions import Subscription, presence_members


def test_connection_url_names_protocol_7_and_this_client() -> None:
    url = protocol.connection_url("wss://ws-eu.pusher.com:443/app/key")
    assert url.startswith(
        "wss://ws-eu.pusher.com:443/app/key?protocol=7&client=pusher-django&version="
    )


@pytest.mark.parametrize(
    ("code", "action"),
    [
        (None, CloseAction.BACKOFF),
        (1006, CloseAction.BACKOFF),
        (4000, CloseAction.STOP),
        (4009, CloseAction.STOP),
        (4099, CloseAction.STOP),
        (4100, CloseAction.BACKOFF),
        (4199, CloseAction.BACKOFF),
        (4200, CloseAction.RECONNECT),
        (4201, CloseAction.RECONNECT),
        (4299, CloseAction.RECONNECT),
        (4301, CloseAction.STOP),
    ],
)
def test_close_codes_follow_the_pusher_ranges(code: int | None, action: CloseAction) -> None:
    assert protocol.close_action(code) is action


def test_parse_accepts_string_and_object_data_and_keeps_non_json_strings() -> None:
    as_string = protocol.parse(json.dumps({"event": "e", "channel": "c", "data": '{"a":1}'}))
    as_object = protocol.parse(json.dumps({"event": "e", "channel": "c", "data": {"a": 1}}))
    text = protocol.parse(json.dumps({"event": "e", "data": "hello", "user_id": 5}))
    assert as_string.data == as_object.data == {"a": 1}
    assert as_string.raw_data == '{"a":1}'
    assert (text.data, text.user_id, text.channel) == ("hello", "5", None)


@pytest.mark.parametrize("frame", ["nope", "[1]", '{"data": 1}', '{"event": 3}', b"{}"])
def test_parse_refuses_what_is_not_a_pusher_message(frame: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        protocol.parse(frame)


def test_handshake_reads_socket_id_and_activity_timeout() -> None:
    data = json.dumps({"socket_id": "1.2", "activity_timeout": 30})
    message = protocol.parse(json.dumps({"event": "pusher:connection_established", "data": data}))
    assert protocol.handshake(message) == ("1.2", 30.0)
    with pytest.raises(ProtocolError):
        protocol.handshake(protocol.parse('{"event": "pusher:connection_established"}'))


def test_subscribe_frames_match_what_pusher_js_sends() -> None:
    assert json.loads(protocol.subscribe("news")) == {
        "event": "pusher:subscribe",
        "data": {"channel": "news", "auth": ""},
    }
    presence = json.loads(protocol.subscribe("presence-a", "k:sig", '{"user_id":"1"}'))
    assert presence["data"] == {
        "channel": "presence-a",
        "auth": "k:sig",
        "channel_data": '{"user_id":"1"}',
    }


def test_error_details_tolerates_missing_code() -> None:
    message = protocol.parse(
        json.dumps({"event": "pusher:error", "data": {"code": None, "message": "Invalid"}})
    )
    assert protocol.error_details(message) == (None, "Invalid")


def test_backoff_grows_with_jitter_within_floor_and_cap_and_resets() -> None:
    backoff = Backoff(base=1, cap=8, minimum=1, _random=random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    assert all(1 <= d <= 8 for d in delays)
    assert delays[0] == 1
    assert max(delays[3:]) > 2
    backoff.reset()
    assert backoff.next_delay() == 1


def test_rate_window_allows_ten_then_waits_for_the_oldest_to_expire() -> None:
    now = [100.0]
    window = RateWindow(10, clock=lambda: now[0])
    for _ in range(10):
        assert window.wait_time() == 0
        window.record()
    assert window.wait_time() == pytest.approx(1.05)
    now[0] += 0.5
    assert window.wait_time() == pytest.approx(0.55)
    now[0] += 0.56
    assert window.wait_time() == 0


def test_member_diff_reports_nothing_on_first_list_and_changes_afterwards() -> None:
    sub = Subscription("presence-x")
    assert sub.replace_members({"a": 1}) == ({}, {})
    sub.add_member("b", 2)
    assert sub.remove_member("b") == 2
    assert sub.replace_members({"c": 3}) == ({"c": 3}, {"a": 1})


def test_presence_members_from_hash_or_bare_ids() -> None:
    assert presence_members({"presence": {"hash": {"1": {"n": "a"}}}}) == {"1": {"n": "a"}}
    assert presence_members({"presence": {"ids": [1, 2]}}) == {"1": None, "2": None}
    assert presence_members("junk") == {}
