"""Old name of :mod:`pusher_django.user_connections`, kept so existing imports work."""

from __future__ import annotations

from .user_connections import terminate_after_commit, terminate_connections

__all__ = ["terminate_after_commit", "terminate_connections"]
