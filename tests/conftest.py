"""Session-wide servers for integration tests and per-test settings for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pusher_django.conf import reset_config

from .support.pusherjs import PusherJs
from .support.soketi import Soketi


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
