"""The benchmarks' own PostgreSQL database, created on first use (a URL names it)."""

from __future__ import annotations

from django.db import connection


def ensure_database() -> None:
    """Create the database ``DATABASE_URL`` names when it is PostgreSQL and missing."""
    settings = connection.settings_dict
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
