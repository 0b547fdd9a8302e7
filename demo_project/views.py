"""Demo pages: an announcement board on a cache channel."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from pusher_django.client import get_client
from pusher_django.conf import get_config
from pusher_django.exceptions import PusherError

ANNOUNCEMENTS = "cache-announcements"


@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        text = request.POST.get("text", "").strip()[:500]
        if text:
            try:
                get_client().trigger(ANNOUNCEMENTS, "announcement", {"text": text})
            except PusherError as err:
                messages.error(request, f"Could not publish: {err}")
        return redirect("index")
    config = get_config()
    return render(
        request,
        "demo/index.html",
        {
            "pusher": {
                "key": config.key,
                "wsHost": config.ws_host,
                "wsPort": config.ws_port,
                "forceTLS": config.use_tls,
                "cluster": config.cluster or "mt1",
            },
            "channel": ANNOUNCEMENTS,
        },
    )
