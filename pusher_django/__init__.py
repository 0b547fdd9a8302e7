"""Pusher Channels for Django and Celery.

The names exported here load lazily, so importing ``pusher_django`` (for
example from settings) never imports models or touches settings.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .authorization import channel
    from .broadcasting import Broadcast, broadcasts
    from .client import PusherClient, get_client
    from .listener import Listener

__version__ = "0.1.0"

_LAZY = {
    "channel": "pusher_django.authorization",
    "Broadcast": "pusher_django.broadcasting",
    "broadcasts": "pusher_django.broadcasting",
    "get_client": "pusher_django.client",
    "PusherClient": "pusher_django.client",
    "Listener": "pusher_django.listener",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pusher_django' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = [
    "Broadcast",
    "Listener",
    "PusherClient",
    "__version__",
    "broadcasts",
    "channel",
    "get_client",
]
