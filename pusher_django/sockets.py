"""Old name of :mod:`pusher_django.sender_exclusion`, kept so existing imports work."""

from __future__ import annotations

from .sender_exclusion import current_socket_id, excluded_socket, excluding_socket, include_sender

__all__ = ["current_socket_id", "excluded_socket", "excluding_socket", "include_sender"]
