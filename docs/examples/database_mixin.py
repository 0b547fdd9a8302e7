"""Another backend with the outbox mixin in front: myproject/db/base.py, ENGINE "myproject.db"."""

from django.db.backends.postgresql import base  # the backend you use: PostGIS, a pooler's...

from pusher_django.db import OutboxFlushMixin


class DatabaseWrapper(OutboxFlushMixin, base.DatabaseWrapper):
    pass
