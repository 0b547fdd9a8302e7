"""The bounded JSON decoder every outside input goes through."""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pusher_django import safe_json
from pusher_django.exceptions import ProtocolError, UnsafeJSON
from pusher_django.listener import protocol
from pusher_django.payloads import decode_data

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**62), 2**62)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


@given(json_values)
def test_ordinary_json_decodes_exactly_like_json_loads(value: Any) -> None:
    text = json.dumps(value)
    assert safe_json.loads(text) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 3000 + "]" * 3000, "deep"),  # RecursionError in json.loads
        ("[" * 100 + "]" * 100, "deeper than 64"),  # fine for json.loads, too deep here
        ('{"a": NaN}', "NaN"),
        ("[Infinity]", "Infinity"),
        ("1e999", "out of range"),
        ("1" + "0" * 400, "out of range"),
        (str(2**63), "out of range"),
        ("9" * 19, "out of range"),  # 19 digits: past the short-integer fast path
        (str(-(2**63) - 1), "out of range"),
        ("{} []", "extra data"),
        ("", "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
    ],
)
def test_unsafe_json_is_a_clean_validation_error(text: str | bytes, reason: str) -> None:
    with pytest.raises(UnsafeJSON, match=reason):
        safe_json.loads(text)
    assert isinstance(UnsafeJSON("x"), ValueError)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (str(2**63 - 1), 2**63 - 1),
        (str(-(2**63) + 1), -(2**63) + 1),
        ("-" + "9" * 18, -int("9" * 18)),
        (" \n[1, 2.5]\t ", [1, 2.5]),
        ("\r{}", {}),
    ],
)
def test_numbers_up_to_the_limit_and_surrounding_space_are_accepted(text: str, value: Any) -> None:
    assert safe_json.loads(text) == value


def test_size_limit() -> None:
    with pytest.raises(UnsafeJSON, match="limit"):
        safe_json.loads("[" + "1," * 100 + "1]", max_bytes=100)


@settings(max_examples=500)
@given(st.one_of(st.text(), st.binary()))
def test_no_input_raises_anything_but_unsafe_json(text: str | bytes) -> None:
    with contextlib.suppress(UnsafeJSON):
        safe_json.loads(text)


@settings(max_examples=500)
@given(st.text(alphabet='[]{}",:0123456789.eE-+ \\abtnrfu', max_size=200))
def test_json_shaped_noise_raises_only_unsafe_json(text: str) -> None:
    for call in (safe_json.loads, lambda t: safe_json.split_array(t, "events")):
        with contextlib.suppress(UnsafeJSON):
            call(text)


def test_split_array_keeps_good_items_next_to_a_bad_one() -> None:
    deep = "[" * 5000 + "]" * 5000
    members, items = safe_json.split_array(
        '{"time_ms": 5, "events": [{"a": 1}, ' + deep + ', "x,]"], "z": [1]}', "events"
    )
    assert members == {"time_ms": 5, "events": None, "z": [1]}
    assert [len(item) for item in items] == [8, 10000, 5]
    assert safe_json.loads(items[0]) == {"a": 1}
    assert safe_json.loads(items[2]) == "x,]"
    with pytest.raises(UnsafeJSON):
        safe_json.loads(items[1])


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300), json_values.map(json.dumps)))
def test_frames_and_event_data_never_raise_unexpectedly(text: str | bytes) -> None:
    try:
        message = protocol.parse(text)
    except ProtocolError:
        return
    assert isinstance(message.event, str)
    decode_data(message.raw_data)
    protocol.error_details(message)
    with contextlib.suppress(ProtocolError):
        protocol.handshake(message)


@pytest.mark.parametrize(
    "data",
    [
        {"socket_id": "abc", "activity_timeout": 30},
        {"socket_id": "1.2; drop", "activity_timeout": 30},
        {"socket_id": 12, "activity_timeout": 30},
        {"activity_timeout": 30},
    ],
)
def test_a_handshake_with_an_unusable_socket_id_is_a_protocol_error(data: dict[str, Any]) -> None:
    message = protocol.Message("pusher:connection_established", None, None, data)
    with pytest.raises(ProtocolError, match="socket_id"):
        protocol.handshake(message)


@pytest.mark.parametrize("timeout", [10**400, 1e308, -5, 0, True, "30", None])
def test_an_absurd_activity_timeout_is_ignored(timeout: Any) -> None:
    established = {"socket_id": "1.2", "activity_timeout": timeout}
    message = protocol.Message("pusher:connection_established", None, None, established)
    assert protocol.handshake(message) == ("1.2", None)


class _Collect(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


frame_values = st.fixed_dictionaries(
    {
        "event": st.sampled_from(
            [
                "pusher:ping",
                "pusher:error",
                "pusher_internal:subscription_succeeded",
                "pusher_internal:member_added",
                "pusher_internal:member_removed",
                "pusher_internal:subscription_count",
                "pusher:subscription_error",
                "pusher:cache_miss",
                "client-x",
                "any",
            ]
        ),
        "channel": st.sampled_from(
            ["presence-fz", "private-encrypted-fz", "private-fz", "#server-to-user-1", "other"]
        ),
    },
    optional={"data": json_values, "user_id": json_values},
).map(json.dumps)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        frame_values,
        frame_values.map(lambda f: f.replace("}", ',"data":' + "[" * 80 + "]" * 80 + "}", 1)),
        st.text(max_size=100),
    )
)
def test_no_frame_escapes_the_listeners_guard(text: str) -> None:
    from pusher_django.conf import get_config
    from pusher_django.listener import Session, listener_settings

    session = Session(
        listener_settings(),
        get_config(),
        ["presence-fz", "private-encrypted-fz", "private-fz"],
    )
    established = {"socket_id": "1.2", "activity_timeout": 120}
    session.connecting(0)
    session.receive(protocol.frame("pusher:connection_established", json.dumps(established)), 0)
    handler = _Collect(logging.ERROR)
    failures = handler.records
    module = logging.getLogger("pusher_django.listener.session")
    module.addHandler(handler)
    try:
        session.receive(text, 1.0)  # sans-I/O: no socket, no loop, no thread
    finally:
        module.removeHandler(handler)
    assert failures == []  # every shape is handled, not merely caught by the guard
