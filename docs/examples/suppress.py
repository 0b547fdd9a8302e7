"""Silencing broadcasts, and triggering on commit (docs/reference/broadcasting.md)."""

from pusher_django.broadcasting import suppress_broadcasts
from pusher_django.outbox import trigger_on_commit


def import_messages(rows):
    for row in rows:
        Message.objects.create(room=room, text=row)


# --8<-- [start:use]
with suppress_broadcasts():  # or @suppress_broadcasts() on a function
    import_messages(rows)
Message.objects.filter(room=room).update(text="read")
trigger_on_commit(f"private-room-{room.pk}", "messages.read", {"room": room.pk})
# --8<-- [end:use]
