"""An event on its way into the outbox, checked completely at save time.

Everything that could make the API refuse an event later — the channel and
event names, the socket id, data that is not JSON, data over the size limit
once the event id is added and the payload encrypted, an encrypted channel
without a master key — fails here, in the code that saved, instead of
dead-lettering a committed event in a worker.

An event saved ``by_reference`` that is over the limit is kept whole in its
row and sent as a *reference*: data that names only its id
(``{"_pusher_id": 42, "_pusher_ref": 42}``), which the page's helper and the
listener resolve from the row (docs/large-events.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pusher_django.channels import is_encrypted, validate_channel_name
from pusher_django.conf import get_config
from pusher_django.exceptions import PusherValidationError
from pusher_django.payloads import check_size, sent_size, serialize
from pusher_django.sender_exclusion import excluded_socket
from pusher_django.validation import validate_event_name, validate_socket_id

#: The largest id the size check reserves room for (a 64-bit row id).
_WIDEST_ID = 2**63 - 1
#: The key of a reference's data; its value is the id of the row that holds the event.
REFERENCE_KEY = "_pusher_ref"


@dataclass(frozen=True)
class OutgoingEvent:
    """One event for one channel; ``data`` is already serialized."""

    channel: str
    name: str
    data: str
    data_is_object: bool = False
    socket_id: str = ""
    #: Too large to send: the wire carries a reference to the row instead.
    is_reference: bool = False


def id_field() -> str | None:
    return get_config().outbox.id_field


def wire_data(data: str, data_is_object: bool, event_id: int, field: str | None) -> str:
    """``data`` with the event id as the first key of a JSON object (unchanged otherwise)."""
    if not data_is_object or field is None:
        return data
    inner = data[1:-1]
    return f"{{{json.dumps(field)}:{event_id}{',' if inner else ''}{inner}}}"


def sent_data(
    data: str, data_is_object: bool, is_reference: bool, event_id: int, field: str | None
) -> str:
    """What the wire carries for a row: its data with its id, or the reference to it."""
    if is_reference:
        return wire_data(f'{{"{REFERENCE_KEY}":{event_id}}}', True, event_id, field)
    return wire_data(data, data_is_object, event_id, field)


def make_event(
    channel: str,
    name: str,
    data: Any,
    socket_id: str | None = None,
    *,
    by_reference: bool = False,
) -> OutgoingEvent:
    """Validate and serialize one event; raises :class:`PusherValidationError`.

    With ``by_reference``, data over ``MAX_PAYLOAD_BYTES`` on the wire (with
    its id, encrypted where the channel is) becomes a reference event, up to
    ``OUTBOX["MAX_REFERENCE_BYTES"]`` of serialized data.
    """
    channel = validate_channel_name(channel, allow_server_to_user=True)
    name = validate_event_name(name)
    socket_id = excluded_socket(socket_id)
    if socket_id:
        validate_socket_id(socket_id)
    field = id_field()
    data_is_object = isinstance(data, Mapping)
    if data_is_object and field is not None and field in data:
        data = {key: value for key, value in data.items() if key != field}
    if data_is_object and REFERENCE_KEY in data:
        raise PusherValidationError(
            f"Event data may not have the key {REFERENCE_KEY!r}: it marks a reference to a "
            "large event (docs/large-events.md)."
        )
    encoded = serialize(data)
    if "\x00" in encoded:  # only a str can hold one (JSON escapes it); PostgreSQL stores none
        raise PusherValidationError(
            "Event data stored in the outbox may not contain a NUL character (U+0000): "
            "send it inside JSON data, where it is escaped."
        )
    config = get_config()
    wire = wire_data(encoded, data_is_object, _WIDEST_ID, field)
    size = sent_size([channel], wire, master_key=config.encryption_master_key)
    is_reference = by_reference and size > config.max_payload_bytes
    if is_reference:
        check_size(
            len(encoded.encode("utf-8")),
            False,
            config.outbox.max_reference_bytes,
            "['OUTBOX']['MAX_REFERENCE_BYTES']",
        )
    else:
        check_size(size, is_encrypted(channel), config.max_payload_bytes)
    return OutgoingEvent(channel, name, encoded, data_is_object, socket_id or "", is_reference)
