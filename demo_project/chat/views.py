"""The chat pages: room list, room, posting a message, setting the announcement."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from pusher_django.outbox import trigger_on_commit

from .models import Message, Presence, Room

MESSAGES_SHOWN = 100  # the newest, oldest first


def _room(request: HttpRequest, room_id: int) -> Room:
    return get_object_or_404(Room, pk=room_id, members=request.user)


@login_required
def room_list(request: HttpRequest) -> HttpResponse:
    rooms = Room.objects.filter(members=request.user).order_by("pk")
    presence = {room.pk: room.presence_channel for room in rooms}
    return render(request, "chat/room_list.html", {"rooms": rooms, "presence": presence})


@login_required
def room(request: HttpRequest, room_id: int) -> HttpResponse:
    current = _room(request, room_id)
    newest = Message.objects.filter(room=current).select_related("author").order_by("-pk")
    context = {
        "room": current,
        "messages": list(reversed(newest[:MESSAGES_SHOWN])),
        "last_seen": [
            {
                "name": presence.user.get_username(),
                "online": presence.online,
                "at": presence.last_seen.isoformat(),
            }
            for presence in Presence.objects.filter(room=current)
            .select_related("user")
            .order_by("-last_seen")
        ],
        "channels": {
            "messages": current.messages_channel,
            "presence": current.presence_channel,
            "announcement": current.announcement_channel,
        },
    }
    return render(request, "chat/room.html", context)


@login_required
@require_POST
def post_message(request: HttpRequest, room_id: int) -> JsonResponse:
    """Saving the message is all it takes: MessageBroadcast sends it after commit,
    excluding the author's socket (X-Socket-ID), who shows it from this response."""
    current = _room(request, room_id)
    text = request.POST.get("text", "").strip()[:500]
    if not text:
        return JsonResponse({"error": "Write something first."}, status=400)
    with transaction.atomic():
        message = Message.objects.create(room=current, author=request.user, text=text)
    return JsonResponse(message.as_json(), status=201)


@login_required
@require_POST
def post_announcement(request: HttpRequest, room_id: int) -> JsonResponse:
    """The last announcement is cached by the cache channel: late joiners get it at once."""
    current = _room(request, room_id)
    text = request.POST.get("text", "").strip()[:500]
    with transaction.atomic():
        current.announcement = text
        current.save(update_fields=["announcement"])
        trigger_on_commit(
            current.announcement_channel,
            "announcement",
            {"text": text, "by": request.user.get_username()},
        )
    return JsonResponse({"text": text})
