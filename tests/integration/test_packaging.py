"""The package as a user gets it: built, checked like PyPI does, installed into a new project.

Builds the sdist and the wheel (PyPI's setuptools, in an isolated build),
runs ``twine check --strict``, installs the wheel into a fresh virtualenv
with its dependencies from PyPI, and runs ``check``, ``migrate``,
``pusher_listen --help`` and ``pusher_outbox status`` in a ``startproject``
project that adds the app.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.integration

SETTINGS = """
INSTALLED_APPS += ["pusher_django"]
PUSHER = {"APP_ID": "123", "KEY": "key", "SECRET": "secret", "CLUSTER": "eu"}
"""


def run(*args: str | Path, cwd: Path | None = None) -> str:
    """Run a command outside this test session (no settings module, no PYTHONPATH)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DATABASE_URL")
    }
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


def test_sdist_and_wheel_install_into_a_new_project(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--outdir", dist, ROOT)  # the wheel from the sdist
    wheel = next(dist.glob("*.whl"))
    sdist = next(dist.glob("*.tar.gz"))
    run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)

    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.endswith("licenses/LICENSE") for name in names)
    for packaged in (
        "pusher_django/py.typed",
        "pusher_django/static/pusher_django/pusher-django.js",
        "pusher_django/templates/admin/pusher_django/delivery/change_list.html",
        "pusher_django/migrations/0002_delivery.py",
        "pusher_django/templatetags/pusher_django.py",
    ):
        assert packaged in names
    assert not any(name.startswith(("tests/", "demo_project/")) for name in names)
    with tarfile.open(sdist) as archive:
        assert any(member.endswith("/LICENSE") for member in archive.getnames())

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", wheel)
    run(env / "bin" / "django-admin", "startproject", "mysite", tmp_path)
    settings = tmp_path / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + SETTINGS)
    manage = tmp_path / "manage.py"
    assert "System check identified no issues" in run(python, manage, "check", cwd=tmp_path)
    assert "pusher_django.0002_delivery" in run(python, manage, "migrate", "-v", "2", cwd=tmp_path)
    assert "--lock" in run(python, manage, "pusher_listen", "--help", cwd=tmp_path)
    assert "pending 0, failed 0, sent 0" in run(
        python, manage, "pusher_outbox", "status", cwd=tmp_path
    )
