"""The websocket side of Pusher: a listener that turns protocol messages into signals.

``manage.py pusher_listen`` wraps :class:`Listener`; use it directly to
subscribe, publish client events or read presence members from Python.
:class:`Session` is its protocol state without I/O (frames and time in,
frames and notices out), for tests and other drivers.
"""

from __future__ import annotations

from pusher_django.exceptions import ListenerFailed

from .core import Listener, listener_settings
from .session import Session, State

__all__ = ["Listener", "ListenerFailed", "Session", "State", "listener_settings"]
