"""Benchmarks on PostgreSQL create their own database when it is missing."""

from __future__ import annotations

from django.db import connection


def ensure_database() -> None:
    import psycopg

    settings = connection.settings_dict
    if not settings["ENGINE"].endswith("postgresql"):
        return
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
