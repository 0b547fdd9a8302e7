"""Who may join which channel, and what a new message broadcasts.

pusher_django discovers this module in every installed app.
"""

from __future__ import annotations

from typing import Any

from pusher_django import Broadcast, broadcasts, channel

from .models import Message, Room


def _member(user: Any, room_id: str) -> bool:
    return Room.objects.filter(pk=room_id, members=user).exists()


@channel("private-encrypted-room-{room_id}")
def room_messages(user: Any, room_id: str) -> bool:
    return _member(user, room_id)


@channel("presence-room-{room_id}")
def room_presence(user: Any, room_id: str) -> dict[str, str] | None:
    return {"name": user.get_username()} if _member(user, room_id) else None


@channel("private-cache-room-{room_id}")
def room_announcements(user: Any, room_id: str) -> bool:
    return _member(user, room_id)


@broadcasts(Message)
class MessageBroadcast(Broadcast):
    """Each new message goes, encrypted, to its room after the transaction commits."""

    on = ("created",)

    def channels(self, instance: Any, action: str) -> list[str]:
        return [instance.room.messages_channel]

    def event(self, instance: Any, action: str) -> str:
        return "message.created"

    def data(self, instance: Any, action: str) -> dict[str, object]:
        message: Message = instance
        return message.as_json()
