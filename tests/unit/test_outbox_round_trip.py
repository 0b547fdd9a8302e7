"""What the outbox stores is exactly what was written, for any event the writer accepts.

The rows reach each database a different way: one JSON document through
``json_to_recordset`` on PostgreSQL, ``VALUES`` lists on SQLite and MariaDB,
and, with ``pusher_django.db``'s backend (``TEST_OUTBOX_FLUSH=1``), one
``INSERT`` for the whole transaction. Hypothesis writes events of any text,
JSON data and socket id through the public API; an event the writer refuses
must be refused with :class:`PusherValidationError` before anything is
written, never by the database.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pusher_django.exceptions import PusherValidationError
from pusher_django.models import Delivery
from pusher_django.outbox import make_event, trigger_on_commit

pytestmark = pytest.mark.django_db

#: Any code point, lone surrogates and NUL included.
_any = st.characters(exclude_categories=())
_prefixes = st.sampled_from(["", "private-", "private-encrypted-", "presence-"])
_channels = st.builds(str.__add__, _prefixes, st.from_regex(r"\A[A-Za-z0-9_\-=@,.;]{1,30}\Z"))
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_any, max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(_any, max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_text = st.text(_any, max_size=30)
_events = st.tuples(
    st.lists(_channels, min_size=1, max_size=3, unique=True),
    _text.filter(bool),
    _json | _text,
    st.none() | st.from_regex(r"\A[0-9]{1,9}\.[0-9]{1,9}\Z"),
)


def _stored() -> list[tuple[Any, ...]]:
    fields = ("channel", "name", "data", "data_is_object", "socket_id", "is_reference")
    return list(Delivery.objects.order_by("id").values_list(*fields))


@hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(events=st.lists(_events, min_size=1, max_size=6))
def test_any_accepted_event_is_stored_exactly_and_a_refused_one_writes_nothing(
    events: list[tuple[list[str], str, Any, str | None]],
) -> None:
    Delivery.objects.all().delete()
    expected = []
    with transaction.atomic():
        for channels, name, data, socket_id in events:
            try:
                made = [make_event(channel, name, data, socket_id) for channel in channels]
            except PusherValidationError:
                with pytest.raises(PusherValidationError):
                    trigger_on_commit(channels, name, data, socket_id=socket_id)
                continue
            trigger_on_commit(channels, name, data, socket_id=socket_id)
            expected += [
                (e.channel, e.name, e.data, e.data_is_object, e.socket_id, e.is_reference)
                for e in made
            ]
        assert _stored() == expected
