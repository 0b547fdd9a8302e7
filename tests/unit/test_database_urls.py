"""The demo and the tests read ``DATABASE_URL`` for PostgreSQL, MySQL and SQLite, options kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.processes import ROOT

SCRIPT = "import json, {module} as s; print(json.dumps(s.DATABASES['default'], default=str))"


def database(module: str, url: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_OUTBOX_FLUSH")}
    if url is not None:
        env["DATABASE_URL"] = url
    output = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, object] = json.loads(output)
    return result


@pytest.mark.parametrize("module", ["demo_project.settings", "tests.settings"])
def test_database_url_kinds_and_options(module: str) -> None:
    postgres = database(module, "postgres://u:p%40ss@db.example:6543/app?sslmode=require")
    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert (postgres["NAME"], postgres["USER"], postgres["PASSWORD"]) == ("app", "u", "p@ss")
    assert (postgres["HOST"], postgres["PORT"]) == ("db.example", 6543)
    assert postgres["OPTIONS"] == {"sslmode": "require"}
    mysql = database(module, "mysql://root@127.0.0.1:3306/test")
    assert mysql["ENGINE"] == "django.db.backends.mysql"
    sqlite = database(module, "sqlite:////srv/data/x.sqlite3")
    assert (sqlite["ENGINE"], sqlite["NAME"]) == (
        "django.db.backends.sqlite3",
        "/srv/data/x.sqlite3",
    )
    default = database(module, None)
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert database(module, "")["ENGINE"] == "django.db.backends.sqlite3"  # empty is unset
