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


#: The demo reaches its database through pusher_django's backend, as the tutorial does.
ENGINES = {"demo_project.settings": "pusher_django.db.", "tests.settings": "django.db.backends."}


@pytest.mark.parametrize("module", sorted(ENGINES))
def test_database_url_kinds_and_options(module: str) -> None:
    engines = ENGINES[module]
    postgres = database(module, "postgres://u:p%40ss@db.example:6543/app?sslmode=require")
    assert postgres["ENGINE"] == f"{engines}postgresql"
    assert (postgres["NAME"], postgres["USER"], postgres["PASSWORD"]) == ("app", "u", "p@ss")
    assert (postgres["HOST"], postgres["PORT"]) == ("db.example", 6543)
    assert postgres["OPTIONS"] == {"sslmode": "require"}
    mysql = database(module, "mysql://root@127.0.0.1:3306/test")
    assert mysql["ENGINE"] == f"{engines}mysql"
    sqlite = database(module, "sqlite:////srv/data/x.sqlite3")
    assert (sqlite["ENGINE"], sqlite["NAME"]) == (f"{engines}sqlite3", "/srv/data/x.sqlite3")
    default = database(module, None)
    assert default["ENGINE"] == f"{engines}sqlite3"
    assert database(module, "")["ENGINE"] == f"{engines}sqlite3"  # empty is unset
