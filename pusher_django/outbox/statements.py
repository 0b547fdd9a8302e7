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

from collections.abc import Collection, Sequence
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


def insert(events: Sequence[OutgoingEvent], shared: dict[str, Any], using: str) -> list[int]:
    """One multi-row ``INSERT``; the new ids where the database returns them.

    Narrower than ``bulk_create``: constants are literals, ``sent_at`` is left
    out (NULL), and it is a plain ``VALUES`` list rather than PostgreSQL's
    ``UNNEST`` of sixteen arrays, which costs several times more per
    statement at the two or three rows a broadcast writes.
    """
    connection = connections[using]
    if connection.vendor not in VENDORS:
        rows = [
            Delivery(**{name: getattr(e, name) for name in _EVENT_FIELDS}, **shared) for e in events
        ]
        Delivery.objects.using(using).bulk_create(rows)
        return [row.pk for row in rows if row.pk is not None]
    opts = Delivery._meta
    fields = [_field(name) for name in (*_EVENT_FIELDS, *shared)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    columns += ", " + ", ".join(quote(name) for name in _NEW_ROW)
    row = "(" + ", ".join(["%s"] * len(fields) + list(_NEW_ROW.values())) + ")"
    common = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields[len(_EVENT_FIELDS) :], shared.values(), strict=True)
    ]
    returning = connection.features.can_return_rows_from_bulk_insert
    table = quote(opts.db_table)
    ids: list[int] = []
    size = max(connection.ops.bulk_batch_size(fields, events), 1)
    for start in range(0, len(events), size):
        chunk = events[start : start + size]
        params: list[Any] = []
        for event in chunk:
            params += [
                field.get_db_prep_save(getattr(event, field.name), connection)
                for field in fields[: len(_EVENT_FIELDS)]
            ]
            params += common
        values = ", ".join([row] * len(chunk))
        # Only names quoted by the backend and placeholders: the values travel as parameters.
        sql = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
        if returning:
            sql += f" RETURNING {quote('id')}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if returning:
                ids += [int(found[0]) for found in cursor.fetchall()]
    return ids


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


def mark_sent(ids: Sequence[int], tokens: Collection[Any], using: str, now: datetime) -> int:
    """Mark the rows of ``ids`` leased to ``tokens`` sent at ``now``; how many were."""
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
    # Only names quoted by the backend and placeholders: the values travel as parameters.
    statement = (
        "UPDATE {table} SET {status} = 'sent', {sent_at} = %s, {attempts} = {attempts} + 1, "  # noqa: S608
        "{error} = '', {lease_token} = NULL, {lease_until} = NULL "
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
