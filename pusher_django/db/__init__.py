"""Database backends that write a transaction's outbox rows in one ``INSERT``, before it commits.

Without them every broadcast inserts its rows when the model is saved: a
transaction of ten saves runs ten outbox ``INSERT`` statements, each a round
trip. Django has no hook just before a commit, so these backends add one:
:class:`OutboxFlushMixin` keeps the rows in memory and writes them all in one
statement inside the transaction, just before ``COMMIT``. Nothing about the
guarantees changes: the rows still commit or roll back with the saves (a
savepoint rolled back drops its own), and any query through
``Delivery.objects`` writes them first, so the ORM sees them as before.

Use ``pusher_django.db.postgresql``, ``pusher_django.db.sqlite3`` or
``pusher_django.db.mysql`` as ``ENGINE`` (:func:`flushing_engine` names the
one for Django's), or put the mixin in front of another backend's
``DatabaseWrapper``.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["OutboxFlushMixin", "flush_outbox_rows", "flushing_engine"]

#: Rows kept in memory before they are written without waiting for the commit.
MAX_BUFFERED = 1000
#: Django's backends that pusher_django ships again with the mixin in front.
VENDORS = ("postgresql", "sqlite3", "mysql")
_DJANGO = "django.db.backends."


def flushing_engine(engine: str) -> str:
    """pusher_django's backend of the database Django's ``engine`` reaches; else ``engine``.

    Meant for settings (``DATABASES["default"]["ENGINE"] = flushing_engine(...)``):
    this module reads no setting and imports no model. Another backend comes
    back unchanged, for ``check --deploy`` to point at the mixin.
    """
    vendor = engine.removeprefix(_DJANGO)
    if engine.startswith(_DJANGO) and vendor in VENDORS:
        return f"pusher_django.db.{vendor}"
    return engine


class OutboxFlushMixin(BaseDatabaseWrapper):
    """Keeps the outbox rows of the open transaction and writes them before it commits.

    ``outbox_buffer`` holds what the writer wrote since the last flush, in
    order. A savepoint is preceded by a flush, so every kept row is newer
    than every savepoint: rolling back to any of them drops all the kept rows,
    and the database drops the written ones it covers.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbox_buffer: list[Any] = []

    def flush_outbox(self) -> None:
        """Write the kept rows now, in the open transaction."""
        if not self.outbox_buffer:
            return
        from pusher_django.outbox.writer import flush

        buffered, self.outbox_buffer = self.outbox_buffer, []
        try:
            flush(self.alias, buffered)
        except Exception:
            if self.in_atomic_block:
                self.needs_rollback = True  # the saves must not commit without their events
            raise

    def commit(self) -> None:
        try:
            self.flush_outbox()
        except DatabaseError:
            raise
        except Exception as exc:  # a DatabaseError makes the atomic block roll back
            raise DatabaseError(f"This transaction's outbox rows were not written: {exc}") from exc
        super().commit()

    def rollback(self) -> None:
        self.outbox_buffer = []
        super().rollback()

    def close(self) -> None:
        self.outbox_buffer = []
        super().close()

    def _savepoint(self, sid: str) -> None:
        self.flush_outbox()
        super()._savepoint(sid)  # type: ignore[misc]  # not in django-stubs

    def _savepoint_rollback(self, sid: str) -> None:
        self.outbox_buffer = []
        super()._savepoint_rollback(sid)  # type: ignore[misc]


def flush_outbox_rows() -> None:
    """Write every connection's kept rows (this thread's), so a query sees them."""
    for connection in connections.all(initialized_only=True):
        if isinstance(connection, OutboxFlushMixin) and connection.outbox_buffer:
            connection.flush_outbox()
