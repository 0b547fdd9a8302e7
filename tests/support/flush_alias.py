"""The default database a second time, through pusher_django's backend (``pusher_django.db``).

For benchmarks that measure both ways in one run. Call it before anything
opens a connection: Django reads ``DATABASES`` once.
"""

from __future__ import annotations

#: The alias of the default database reached through ``pusher_django.db``.
FLUSH = "flush"


def add_flush_alias() -> str:
    from django.conf import settings

    from pusher_django.db import flushing_engine

    default = settings.DATABASES["default"]
    settings.DATABASES[FLUSH] = {**default, "ENGINE": flushing_engine(default["ENGINE"])}
    return FLUSH
