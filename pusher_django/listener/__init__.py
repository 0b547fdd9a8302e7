"""The websocket side of Pusher: a listener that turns protocol messages into signals.

``manage.py pusher_listen`` wraps :class:`Listener`; use it directly to
subscribe, publish client events or read presence members from Python.
"""

from __future__ import annotations

from .core import Listener, ListenerFailed, State
from .options import ListenerOptions

__all__ = ["Listener", "ListenerFailed", "ListenerOptions", "State"]
