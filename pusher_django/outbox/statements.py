"""Hand-written SQL for the statements every commit runs, where the ORM costs more than
the database does.

Measured on PostgreSQL over loopback, building and compiling a queryset took
0.4-0.5 ms of CPU for statements the database answers in 0.1-0.2 ms, and
``bulk_create`` sends PostgreSQL sixteen ``UNNEST`` arrays for the two or three
rows a broadcast writes. Each statement spells the conditions of the partial
indexes of :class:`~pusher_django.models.Delivery` term for term, as its
queryset does (SQLite uses a partial index only then); names are quoted by the
backend and values travel as parameters. Other backends get the ORM's version.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import connections, models
from django.db.models import F

from pusher_django.models import Delivery

from .events import OutgoingEvent

#: Where this module's SQL runs; elsewhere the ORM's statements do.
VENDORS = frozenset({"postgresql", "sqlite", "mysql"})
#: The open-rows index's condition and the pending filter, as :meth:`DeliveryQuerySet.pending`.
_PENDING = "NOT ({status} = 'sent') AND {status} = 'pending'"


def _placeholders(values: Collection[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _names(using: str) -> dict[str, str]:
    quote = connections[using].ops.quote_name
    columns = ("id", "status", "channel", "lease_token", "lease_until", "sent_at", "attempts")
    names = {name: quote(name) for name in (*columns, "error")}
    return {**names, "table": quote(Delivery._meta.db_table)}


def _exists(using: str, condition: str, params: list[Any]) -> bool:
    names = _names(using)
    # Only names quoted by the backend and placeholders: the values travel as parameters.
    query = f"SELECT 1 FROM {names['table']} WHERE {_PENDING} AND {condition} LIMIT 1"  # noqa: S608
    with connections[using].cursor() as cursor:
        cursor.execute(query.format(**names), params)
        return cursor.fetchone() is not None


#: The columns of a new row with the same value in every insert, as SQL literals.
_NEW_ROW = {"status": "'pending'", "attempts": "0", "error": "''"}
_EVENT_FIELDS = ("channel", "name", "data", "data_is_object", "is_reference", "socket_id")


def _field(name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", Delivery._meta.get_field(name))


def insert(rows: Sequence[tuple[OutgoingEvent, Mapping[str, Any]]], using: str) -> list[int]:
    """One ``INSERT`` of each event with its write's shared columns; the new ids in order.

    Narrower than ``bulk_create``: constants are literals and ``sent_at`` is
    left out (NULL). On PostgreSQL the rows travel as one JSON parameter
    (``json_to_recordset``): psycopg parses a statement of more than fifty
    placeholders again on every call, which cost 0.7 ms of CPU for the
    twenty rows of a transaction of ten two-channel saves. Elsewhere it is a
    plain ``VALUES`` list. The shared columns (the same keys in every row)
    are prepared once per write.
    """
    connection = connections[using]
    if connection.vendor not in VENDORS:
        objs = [
            Delivery(**{name: getattr(e, name) for name in _EVENT_FIELDS}, **shared)
            for e, shared in rows
        ]
        Delivery.objects.using(using).bulk_create(objs)
        return [obj.pk for obj in objs if obj.pk is not None]
    shape = _shape(using, tuple(rows[0][1]))
    values = _prepared(rows, shape.fields, connection, as_json=shape.json)
    statements: list[tuple[str, list[Any]]] = []
    if shape.json:
        document = json.dumps([dict(zip(shape.keys, row, strict=True)) for row in values])
        statements.append((shape.sql, [document]))
    else:
        size = max(connection.ops.bulk_batch_size(shape.fields, values), 1)
        for chunk in (values[i : i + size] for i in range(0, len(values), size)):
            params = [value for row in chunk for value in row]
            statements.append(
                (shape.sql.replace("{rows}", ", ".join([shape.row] * len(chunk))), params)
            )
    ids: list[int] = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if shape.returning:
                ids += [int(found[0]) for found in cursor.fetchall()]
    return ids


@dataclass(frozen=True)
class _Shape:
    """The text of an outbox ``INSERT`` on one database, built once."""

    fields: list[models.Field[Any, Any]]
    keys: list[str]
    #: ``True``: one JSON parameter (PostgreSQL); else ``{rows}`` takes ``row`` once per row.
    json: bool
    sql: str
    row: str
    returning: bool


@functools.cache
def _shape(using: str, shared: tuple[str, ...]) -> _Shape:
    connection = connections[using]
    fields = [_field(name) for name in (*_EVENT_FIELDS, *shared)]
    quote = connection.ops.quote_name
    names = [quote(str(field.column)) for field in fields]
    returning = bool(connection.features.can_return_rows_from_bulk_insert)
    constants = ", ".join(_NEW_ROW.values())
    # Only names quoted by the backend, types and placeholders: values travel as parameters.
    start = (
        f"INSERT INTO {quote(Delivery._meta.db_table)} "
        f"({', '.join([*names, *map(quote, _NEW_ROW)])}) "
    )
    end = f" RETURNING {quote('id')}" if returning else ""
    row = "(" + ", ".join(["%s"] * len(fields)) + f", {constants})"
    if connection.vendor == "postgresql":
        types = ", ".join(
            f"{name} {field.db_type(connection)}" for name, field in zip(names, fields, strict=True)
        )
        select = f"SELECT {', '.join(names)}, {constants} "
        sql = f"{start}{select}FROM json_to_recordset(%s) AS rows({types}){end}"
    else:
        sql = start + "VALUES {rows}" + end
    keys = [str(field.column) for field in fields]
    return _Shape(fields, keys, connection.vendor == "postgresql", sql, row, returning)


def _prepared(
    rows: Sequence[tuple[OutgoingEvent, Mapping[str, Any]]],
    fields: Sequence[models.Field[Any, Any]],
    connection: Any,
    as_json: bool = False,
) -> list[list[Any]]:
    """Each row's values as the database takes them, in the order of ``fields``.

    The event's own columns are strings and booleans already checked at save
    time, taken as they are; the shared ones are prepared once per write. For
    ``json_to_recordset`` they become JSON values (a UUID or a time as its
    text) directly: Django's preparation of them changes nothing on
    PostgreSQL and cost 20 µs per broadcast.
    """
    shared_fields = fields[len(_EVENT_FIELDS) :]
    prepared: dict[int, list[Any]] = {}

    def common(shared: Mapping[str, Any]) -> list[Any]:
        found = prepared.get(id(shared))
        if found is None:
            if as_json:
                found = [_json_value(value) for value in shared.values()]
            else:
                pairs = zip(shared_fields, shared.values(), strict=True)
                found = [field.get_db_prep_save(value, connection) for field, value in pairs]
            prepared[id(shared)] = found
        return found

    return [[*_event_values(event), *common(shared)] for event, shared in rows]


_event_values = operator.attrgetter(*_EVENT_FIELDS)


def _json_value(value: Any) -> Any:
    """A shared column's value as JSON; a text column's other values as ``str()``, as Django."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # a UUID, or what an overridden coalesce_key() returned


def others_before(ids: Collection[int], channels: Collection[str], using: str) -> bool:
    """Whether a pending row not among ``ids`` comes before the newest of them on ``channels``."""
    if connections[using].vendor not in VENDORS:
        rows = Delivery.objects.using(using).pending().filter(channel__in=channels, id__lt=max(ids))
        return bool(rows.exclude(id__in=list(ids)).exists())
    condition = (
        f"{{channel}} IN ({_placeholders(channels)}) AND {{id}} < %s "
        f"AND NOT ({{id}} IN ({_placeholders(ids)}))"
    )
    return _exists(using, condition, [*channels, max(ids), *ids])


def free_after(channels: Collection[str], after: int, using: str) -> bool:
    """Whether a pending row newer than ``after`` on ``channels`` waits for a claim."""
    if connections[using].vendor not in VENDORS:
        rows = Delivery.objects.using(using).pending().filter(channel__in=channels, id__gt=after)
        return bool(rows.filter(lease_token__isnull=True).exists())
    condition = (
        f"{{channel}} IN ({_placeholders(channels)}) AND {{id}} > %s AND {{lease_token}} IS NULL"
    )
    return _exists(using, condition, [*channels, after])


#: PostgreSQL: this statement's own commit does not wait for the WAL flush (``set_config``
#: with ``is_local``: only this transaction, safe behind a transaction-pooling pgbouncer).
_RELAXED = " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"


def mark_sent(ids: Sequence[int], tokens: Collection[Any], using: str, now: datetime) -> int:
    """Mark the rows of ``ids`` leased to ``tokens`` sent at ``now``; how many were.

    On PostgreSQL, outside a caller's transaction, the mark commits without
    waiting for its WAL flush, in about a third of the time on loopback.
    The events were committed durably when they were written; a crash in the
    next fraction of a second (``wal_writer_delay``) can only lose marks, the
    newest ones (the WAL is replayed in order), and an unmarked row is sent
    again with the same id once its lease runs out: at least once, as always.
    """
    if connections[using].vendor not in VENDORS:
        return int(
            Delivery.objects.using(using)
            .filter(id__in=list(ids), lease_token__in=tokens)
            .update(
                status="sent",
                sent_at=now,
                attempts=F("attempts") + 1,
                error="",
                lease_token=None,
                lease_until=None,
            )
        )
    connection = connections[using]
    token_field, sent_field = _field("lease_token"), _field("sent_at")
    relaxed = (
        _RELAXED if connection.vendor == "postgresql" and not connection.in_atomic_block else ""
    )
    # Only names quoted by the backend and placeholders: the values travel as parameters.
    statement = (
        "UPDATE {table} SET {status} = 'sent', {sent_at} = %s, {attempts} = {attempts} + 1, "  # noqa: S608
        f"{{error}} = '', {{lease_token}} = NULL, {{lease_until}} = NULL{relaxed} "
        f"WHERE {{id}} IN ({_placeholders(ids)}) AND {{lease_token}} IN ({_placeholders(tokens)})"
    ).format(**_names(using))
    params = [
        sent_field.get_db_prep_value(now, connection),
        *ids,
        *(token_field.get_db_prep_value(token, connection) for token in tokens),
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount)
