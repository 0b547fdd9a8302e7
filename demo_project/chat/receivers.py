"""Signals doing real work: presence history and re-publishing announcements.

``member_added``/``member_removed`` come from ``manage.py pusher_listen``
(which joins every room's presence channel); ``cache_miss`` comes from the
listener and from soketi's webhook (``/pusher/webhook/``), whichever sees it.
Both receivers are idempotent, so it does not matter if both sources report.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from pusher_django.client import get_client
from pusher_django.exceptions import PusherError
from pusher_django.signals import cache_miss, member_added, member_removed

from .models import Presence, Room

logger = logging.getLogger(__name__)

PRESENCE_RE = re.compile(r"\Apresence-room-(?P<room>\d+)\Z")
ANNOUNCEMENT_RE = re.compile(r"\Aprivate-cache-room-(?P<room>\d+)\Z")


def _record(channel: str, user_id: str, online: bool) -> None:
    match = PRESENCE_RE.match(channel)
    if match is None or not user_id.isdigit():
        return
    Presence.objects.update_or_create(
        room_id=int(match["room"]),
        user_id=int(user_id),
        defaults={"online": online, "last_seen": timezone.now()},
    )


@receiver(member_added)
def user_joined(sender: Any, channel: str, user_id: str, **kwargs: Any) -> None:
    _record(channel, user_id, online=True)


@receiver(member_removed)
def user_left(sender: Any, channel: str, user_id: str, **kwargs: Any) -> None:
    _record(channel, user_id, online=False)


@receiver(cache_miss)
def republish_announcement(sender: Any, channel: str, source: str, **kwargs: Any) -> None:
    """An empty announcement cache (expired, or soketi restarted): publish it again."""
    match = ANNOUNCEMENT_RE.match(channel)
    room = Room.objects.filter(pk=match["room"]).first() if match else None
    if room is None or not room.announcement:
        return
    logger.info("Cache miss on %s (via %s): re-publishing the announcement", channel, source)
    try:
        get_client().trigger(channel, "announcement", {"text": room.announcement})
    except PusherError:
        logger.exception("Could not re-publish the announcement of room %s", room.pk)
