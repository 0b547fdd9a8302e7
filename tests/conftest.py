"""Session-wide servers for integration tests and per-test settings for them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pusher_django.conf import reset_config

from . import celery_app  # noqa: F401 - binds the shared tasks to the test broker
from .support.asgi import SERVER, AsgiServer
from .support.proxy import RestProxy
from .support.pusherjs import PusherJs
from .support.redis_server import redis_server
from .support.soketi import Soketi
from .support.worker import CeleryWorker


def uses_database(item: pytest.Item) -> bool:
    """Whether pytest-django lets ``item`` reach the test database.

    The same signs pytest-django reads when it orders tests: a Django test case
    with a database, the ``django_db`` marker, or a fixture that opens the
    database (``db``, ``transactional_db``, ``live_server``); and, for the
    processes a test starts (workers, relays, listeners), ``django_db_setup``
    behind the ``test_database`` fixture that names the database to them.
    """
    from django.test import TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return True
    if item.get_closest_marker("django_db") is not None:
        return True
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & {"db", "transactional_db", "live_server", "django_db_setup"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``TEST_DATABASE_ONLY=1`` (the MariaDB line of tox.ini): only the tests that use the
    database. The others gain nothing from another database; they run on SQLite (the
    offline matrix, scripts/test.sh) and on PostgreSQL."""
    if os.environ.get("TEST_DATABASE_ONLY") != "1":
        return
    dropped = [item for item in items if not uses_database(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if uses_database(item)]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A test's send-at-commit work ends, and its connections close, before its database does."""
    from pusher_django.outbox.sender import running_sender

    sender = running_sender()
    if sender is not None:
        sender.wait_idle()
    return (yield)


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    reset_config()
    yield
    reset_config()


@pytest.fixture(scope="session")
def soketi() -> Iterator[Soketi]:
    server = Soketi()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def soketi_settings(soketi: Soketi, settings: Any) -> Soketi:
    """Point ``PUSHER`` at the session's soketi for this test."""
    settings.PUSHER = soketi.pusher_settings()
    return soketi


@pytest.fixture
def pusher_js(soketi: Soketi) -> Iterator[Callable[..., PusherJs]]:
    """Factory of real pusher-js clients connected to the session's soketi."""
    clients: list[PusherJs] = []

    def make(**kwargs: Any) -> PusherJs:
        from .support.soketi import APP_KEY

        client = PusherJs(key=APP_KEY, ws_port=soketi.port, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def own_redis() -> Iterator[str]:
    """The URL of a Redis server of this test's own, for a default queue or a fixed lock."""
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def rest_proxy(soketi: Soketi) -> Iterator[RestProxy]:
    proxy = RestProxy(soketi.port)
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def test_database(django_db_setup: None) -> str:
    """The test database's name, for the processes the tests start (workers, relays)."""
    from django.db import connection

    return str(connection.settings_dict["NAME"])


@pytest.fixture(scope="session")
def celery_worker(rest_proxy: RestProxy, test_database: str) -> Iterator[CeleryWorker]:
    """One real worker per session, on its own queue, reaching soketi through the proxy."""
    worker = CeleryWorker(rest_proxy.port, test_database)
    yield worker
    worker.stop()


@pytest.fixture
def broadcasting(soketi: Soketi, settings: Any, celery_worker: CeleryWorker, rest_proxy: RestProxy):
    """Settings that send broadcasts to the session's worker; the proxy starts clean.

    This process's REST calls reach soketi through the proxy too (it sends at
    commit); websockets (pages, listeners) connect to soketi itself.
    """
    settings.PUSHER = soketi.pusher_settings(
        PORT=rest_proxy.port, WS_PORT=soketi.port, CELERY={"QUEUE": celery_worker.queue}
    )
    rest_proxy.reset()
    rest_proxy.down = False
    yield rest_proxy
    rest_proxy.down = False


@pytest.fixture(scope="session")
def asgi_server(django_db_setup: None) -> Iterator[AsgiServer]:
    """The test project under uvicorn (tests using it need ``django_db(transaction=True)``)."""
    server = AsgiServer().start()
    yield server
    server.stop()


if SERVER == "uvicorn":

    @pytest.fixture(scope="session")
    def live_server(asgi_server: AsgiServer) -> AsgiServer:
        """``PUSHER_DJANGO_TEST_SERVER=uvicorn``: every live-server test runs under ASGI."""
        return asgi_server
