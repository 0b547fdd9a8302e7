"""Channel rules of the test app, discovered like any project's."""

from __future__ import annotations

from typing import Any

from pusher_django import channel


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
