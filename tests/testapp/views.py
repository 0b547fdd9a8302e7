"""Pages the browser tests open."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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
