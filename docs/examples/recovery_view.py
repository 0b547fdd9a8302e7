"""A page rendered at its channels' positions (docs/recovery.md); ``Message`` is yours."""

from django.shortcuts import render

from pusher_django.history import positions


def room(request, room_id):
    channel = f"private-encrypted-room-{room_id}"
    taken = positions([channel])  # first...
    messages = list(Message.objects.filter(room_id=room_id))  # ...then the data
    return render(request, "room.html", {"messages": messages, "positions": taken})
