"""An ``async def`` signal receiver (docs/async.md; Django 5.0 or later)."""

from django.dispatch import receiver

from pusher_django.client import get_client
from pusher_django.signals import member_added


@receiver(member_added)
async def greet(sender, channel, user_id, user_info, source, **kwargs):
    await get_client().atrigger(channel, "welcome", {"user_id": user_id})
