"""The default database a second time, through pusher_django's backend (``pusher_django.db``).

For benchmarks that measure both ways in one run. Call it before anything
opens a connection: Django reads ``DATABASES`` once.
"""

from __future__ import annotations

#: The alias of the default database reached through ``pusher_django.db``.
FLUSH = "flush"


def flush_engine(engine: str) -> str:
    """pusher_django's backend in place of Django's ``engine``."""
    return engine.replace("django.db.backends.", "pusher_django.db.")


def add_flush_alias() -> str:
    from django.conf import settings

    default = settings.DATABASES["default"]
    settings.DATABASES[FLUSH] = {**default, "ENGINE": flush_engine(default["ENGINE"])}
    return FLUSH
