"""Rooms, their messages, and who was last seen in them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Room(models.Model):
    name = models.CharField(max_length=50)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="chat_rooms")
    announcement = models.CharField(max_length=500, blank=True)

    objects: models.Manager[Room] = models.Manager()

    def __str__(self) -> str:
        return self.name

    # The three channels of a room; pusher_channels.py authorizes them.
    @property
    def messages_channel(self) -> str:
        return f"private-encrypted-room-{self.pk}"

    @property
    def presence_channel(self) -> str:
        return f"presence-room-{self.pk}"

    @property
    def announcement_channel(self) -> str:
        return f"private-cache-room-{self.pk}"


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    text = models.CharField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[Message] = models.Manager()

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return self.text[:40]

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.pk,
            "author": self.author.get_username(),
            "text": self.text,
            "created": self.created.isoformat(),
        }


class Presence(models.Model):
    """Written by the listener's receivers (receivers.py), read by the room page."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    online = models.BooleanField(default=False)
    last_seen = models.DateTimeField()

    objects: models.Manager[Presence] = models.Manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="one_presence_per_room")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"
