"""A bot that greets whoever joins (docs/reference/listener.md)."""

from django.dispatch import receiver

from pusher_django.listener import Listener
from pusher_django.signals import member_added

bot = Listener(["presence-lobby"])


@receiver(member_added, sender=Listener)
def greet(sender, channel, user_id, user_info, **kwargs):
    name = (user_info or {}).get("name", user_id)
    bot.publish(channel, "greeting", {"text": f"Welcome, {name}!"})


bot.start()
