"""A change and its events in one transaction from async code (docs/async.md).

``Message`` and ``room`` come from the tests.
"""

from asgiref.sync import sync_to_async
from django.db import transaction

from pusher_django.outbox import trigger_on_commit


@sync_to_async
def save_and_announce(text):
    with transaction.atomic():
        Message.objects.create(room=room, text=text)  # broadcasts message.created
        trigger_on_commit("private-lobby", "announced", {"text": text})


async def post():
    await save_and_announce("hello")  # both events, or (on an exception) neither
