"""An event on its way into the outbox, checked completely at save time.

Everything that could make the API refuse an event later — the channel and
event names, the socket id, data that is not JSON, data over the size limit
once the event id is added and the payload encrypted, an encrypted channel
without a master key — fails here, in the code that saved, instead of
dead-lettering a committed event in a worker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pusher_django.channels import validate_channel_name
from pusher_django.conf import get_config
from pusher_django.payloads import check_event_data, serialize
from pusher_django.sender_exclusion import excluded_socket
from pusher_django.validation import validate_event_name, validate_socket_id

#: The largest id the size check reserves room for (a 64-bit row id).
_WIDEST_ID = 2**63 - 1


@dataclass(frozen=True)
class OutgoingEvent:
    """One event for one channel; ``data`` is already serialized."""

    channel: str
    name: str
    data: str
    data_is_object: bool = False
    socket_id: str = ""


def id_field() -> str | None:
    return get_config().outbox.id_field


def wire_data(data: str, data_is_object: bool, event_id: int, field: str | None) -> str:
    """``data`` with the event id as the first key of a JSON object (unchanged otherwise)."""
    if not data_is_object or field is None:
        return data
    inner = data[1:-1]
    return f"{{{json.dumps(field)}:{event_id}{',' if inner else ''}{inner}}}"


def make_event(channel: str, name: str, data: Any, socket_id: str | None = None) -> OutgoingEvent:
    """Validate and serialize one event; raises :class:`PusherValidationError`."""
    channel = validate_channel_name(channel, allow_server_to_user=True)
    name = validate_event_name(name)
    socket_id = excluded_socket(socket_id)
    if socket_id:
        validate_socket_id(socket_id)
    field = id_field()
    data_is_object = isinstance(data, Mapping)
    if data_is_object and field is not None and field in data:
        data = {key: value for key, value in data.items() if key != field}
    encoded = serialize(data)
    config = get_config()
    check_event_data(
        [channel],
        wire_data(encoded, data_is_object, _WIDEST_ID, field),
        master_key=config.encryption_master_key,
        max_bytes=config.max_payload_bytes,
    )
    return OutgoingEvent(channel, name, encoded, data_is_object, socket_id or "")
