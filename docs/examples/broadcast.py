"""A model broadcast (docs/reference/broadcasting.md); ``Message`` is the test app's model."""

from pusher_django import Broadcast, broadcasts


@broadcasts(Message)
class MessageBroadcast(Broadcast):
    on = ("created", "updated", "deleted")

    def channels(self, instance, action):
        return [f"private-encrypted-room-{instance.room_id}"]

    def event(self, instance, action):
        return f"message.{action}"

    def data(self, instance, action):
        return {"id": instance.pk, "text": instance.text}

    def should_broadcast(self, instance, action):
        return not instance.text.startswith("(hidden)")
