"""Benchmarks on PostgreSQL or MariaDB create their own database when it is missing."""

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
