"""An async view that saves and broadcasts (docs/async.md); ``Message`` is the test app's."""

from django.http import JsonResponse

from pusher_django.outbox import atrigger_on_commit


async def asave_message(request):
    message = Message(room_id=int(request.POST["room"]), text=request.POST["text"])
    await message.asave()  # broadcasts message.created
    if request.POST.get("announce"):
        await atrigger_on_commit("private-lobby", "announced", {"id": message.pk})
    return JsonResponse({"id": message.pk})
