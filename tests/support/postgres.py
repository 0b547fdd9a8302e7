"""Benchmarks on PostgreSQL or MariaDB create their own database when it is missing, and
start from an outbox table that autovacuum would have cleaned."""

from __future__ import annotations

from django.db import connection


def ensure_database() -> None:
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("mysql"):
        import MySQLdb  # type: ignore[import-untyped]

        server = MySQLdb.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=int(settings["PORT"] or 3306),
            user=settings["USER"] or "root",
            password=settings["PASSWORD"] or "",
        )
        try:
            server.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{settings['NAME']}`")
        finally:
            server.close()
        return
    if not settings["ENGINE"].endswith("postgresql"):
        return
    import psycopg

    admin = psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{settings["NAME"]}"')


def settle_outbox() -> None:
    """What autovacuum and InnoDB's statistics would have done by now; SQLite runs unanalyzed.

    A benchmark empties the outbox table between runs. Where autovacuum is off
    (as on the benchmark machine's PostgreSQL), the dead rows stay in its
    indexes and every later run's claims and checks walk them.
    """
    from pusher_django.models import Delivery

    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {table}")
        elif connection.vendor == "mysql":
            cursor.execute(f"ANALYZE TABLE {table}")
