"""Channel rules of the test app, discovered like any project's."""

from __future__ import annotations

from typing import Any

from pusher_django import Broadcast, broadcasts, channel

from .models import Message, Note, Score


@channel("private-room-{room_id}")
def room(user: Any, room_id: str) -> bool:
    return bool(user.username == "member" or room_id == "open")


@channel("presence-room-{room_id}")
def room_presence(user: Any, room_id: str) -> dict[str, Any] | None:
    if room_id == "closed":
        return None
    return {"name": user.get_username()}


@channel("presence-cache-room-{room_id}")
def room_presence_cache(user: Any, room_id: str) -> bool:
    return True


@channel("private-encrypted-room-{room_id}")
def encrypted_room(user: Any, room_id: str) -> bool:
    return True


@channel("private-encrypted-cache-room-{room_id}")
def encrypted_cache_room(user: Any, room_id: str) -> bool:
    return True


@channel("private-cache-room-{room_id}")
def cache_room(user: Any, room_id: str) -> bool:
    return True


@channel("private-lobby", allow_anonymous=True)
def lobby(user: Any) -> bool:
    return True


@channel("private-vip-{name}")
def vip(user: Any, name: str, request: Any) -> bool:
    return bool(request.session.get("vip"))


@channel("private-boom-{name}")
def boom(user: Any, name: str) -> bool:
    raise RuntimeError("rule bug")


#: Calls of the ``many=True`` rule below, for the tests to count.
TEAM_RULE_CALLS: list[list[dict[str, Any]]] = []


@channel("private-team-{team:int}", many=True)
def teams(user: Any, matches: list[dict[str, Any]]) -> list[bool]:
    TEAM_RULE_CALLS.append(matches)
    return [match["team"] % 2 == 0 for match in matches]


@broadcasts(Message)
class MessageBroadcast(Broadcast):
    on = ("created", "updated", "deleted")

    def channels(self, instance: Any, action: str) -> list[str]:
        return [f"private-encrypted-room-{instance.room_id}"]

    def event(self, instance: Any, action: str) -> str:
        return f"message.{action}"

    def data(self, instance: Any, action: str) -> dict[str, Any]:
        return {"id": instance.pk, "text": instance.text}


@broadcasts(Note)
class NoteBroadcast(Broadcast):
    on = ("created", "deleted")

    def should_broadcast(self, instance: Any, action: str) -> bool:
        return not instance.secret


@broadcasts(Score)
class ScoreBroadcast(Broadcast):
    coalesce = True

    def channels(self, instance: Any, action: str) -> list[str]:
        return ["private-scores"]

    def data(self, instance: Any, action: str) -> dict[str, Any]:
        return {"player": instance.player, "points": instance.points}
