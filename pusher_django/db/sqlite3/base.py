"""Django's SQLite backend, writing a transaction's outbox rows just before it commits."""

from django.db.backends.sqlite3 import base

from pusher_django.db import OutboxFlushMixin


class DatabaseWrapper(OutboxFlushMixin, base.DatabaseWrapper):
    pass
