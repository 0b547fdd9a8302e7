"""Models the broadcasting tests save."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Room(models.Model):
    name = models.CharField(max_length=50)


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE)
    text = models.CharField(max_length=500)
    sent_at = models.DateTimeField(default=timezone.now)


class Note(models.Model):
    """Broadcast with every default."""

    title = models.CharField(max_length=50)
    secret = models.BooleanField(default=False)


class Score(models.Model):
    """Broadcast with coalescing: many updates of one score become one event."""

    player = models.CharField(max_length=50)
    points = models.IntegerField(default=0)
