"""Reaching the sender anyway (docs/reference/rules-and-endpoints.md)."""

from pusher_django.client import get_client
from pusher_django.sender_exclusion import include_sender

with include_sender():
    get_client().trigger("private-room-1", "refresh", {})
