"""``atrigger_on_commit`` from a coroutine (docs/async.md)."""

from pusher_django.outbox import atrigger_on_commit


async def announce(message):
    await atrigger_on_commit("private-lobby", "announced", {"id": message.pk})
