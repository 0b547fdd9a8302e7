"""The coroutine twins (docs/async.md): the tests run them with a recording transport."""

import asyncio

from django.http import JsonResponse

from pusher_django.client import get_client


async def atrigger_ping(request):
    result = await get_client().atrigger(request.POST["channel"], "ping", {"n": 1})
    return JsonResponse(dict(result))


# --8<-- [start:gather]
async def notify(pks, data):
    client = get_client()
    await asyncio.gather(*(client.atrigger(f"private-user-{pk}", "notice", data) for pk in pks))


# --8<-- [end:gather]
# --8<-- [start:aclose]
async def main():
    await notify([1, 2, 3], {"text": "maintenance at noon"})
    await get_client().aclose()  # close this event loop's pooled connections


asyncio.run(main())
# --8<-- [end:aclose]
