"""Pages the browser tests open."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pusher_django.client import get_client
from pusher_django.outbox import atrigger_on_commit

from .models import Message


@login_required
def many_channels(request: HttpRequest) -> HttpResponse:
    """A page subscribed to ``n`` private, presence and encrypted channels at once."""
    n = min(int(request.GET.get("n", "40")), 100)
    kinds = ["private-room-{}", "presence-room-{}", "private-encrypted-room-{}"]
    channels = [kinds[i % 3].format(f"page{i}") for i in range(n)]
    return render(request, "testapp/many_channels.html", {"channels": channels})


@login_required
def recovery(request: HttpRequest, room_id: int) -> HttpResponse:
    """A page that recovers the messages of one room it missed while offline."""
    return render(
        request, "testapp/recovery.html", {"channel": f"private-encrypted-room-{room_id}"}
    )


@login_required
def references(request: HttpRequest) -> HttpResponse:
    """A page on the ``?channel=`` channels recording ``note`` events and reference failures."""
    return render(request, "testapp/references.html", {"channels": request.GET.getlist("channel")})


@csrf_exempt
@require_POST
def save_message(request: HttpRequest) -> JsonResponse:
    """Save a message (it broadcasts through the outbox): the sync view of the ASGI tests."""
    message = Message.objects.create(room_id=int(request.POST["room"]), text=request.POST["text"])
    return JsonResponse({"id": message.pk})


async def asave_message(request: HttpRequest) -> JsonResponse:
    """The same as an async view: ``asave()``, then an announcement with ``atrigger_on_commit``.

    (Method and CSRF by hand: Django 4.2's decorators do not wrap async views.)
    """
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    message = Message(room_id=int(request.POST["room"]), text=request.POST["text"])
    await message.asave()
    if request.POST.get("announce"):
        await atrigger_on_commit("private-lobby", "announced", {"id": message.pk})
    return JsonResponse({"id": message.pk})


async def atrigger_ping(request: HttpRequest) -> JsonResponse:
    """An async view that triggers directly (the request's X-Socket-ID is excluded)."""
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    result = await get_client().atrigger(request.POST["channel"], "ping", {"n": 1})
    return JsonResponse(dict(result))


asave_message.csrf_exempt = True  # type: ignore[attr-defined]
atrigger_ping.csrf_exempt = True  # type: ignore[attr-defined]


async def aauthorize_lobby(request: HttpRequest) -> JsonResponse:
    """The async variant of ``pusher/auth/`` for ``private-lobby`` that benchmarks/async_client.py
    measures: the same signing, no rule lookup and no thread hop (an upper bound of the gain)."""
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    payload = get_client().authorize_channel(request.POST["socket_id"], "private-lobby")
    return JsonResponse(dict(payload))


aauthorize_lobby.csrf_exempt = True  # type: ignore[attr-defined]
