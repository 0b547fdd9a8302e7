from pusher_django import Broadcast, broadcasts

from .models import Note


@broadcasts(Note)
class NoteBroadcast(Broadcast):
    on = ("created",)

    def channels(self, instance, action):
        return ["board"]  # a public channel: no authorization rule needed

    def data(self, instance, action):
        return {"text": instance.text}
