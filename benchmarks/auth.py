"""Channel authorization cost: 40 single requests vs one batch, and vs a hand-written endpoint.

Usage: .venv/bin/python benchmarks/auth.py [--rounds 30]

In one process, through Django's full request handling (the test settings'
middleware: sessions in the database, authentication, CSRF, messages, socket
id), with a logged-in user:

- a page of 40 channels (private, presence, encrypted) authorized by 40
  requests to ``pusher/auth/`` vs one request to ``pusher/auth/batch/``;
- per kind, ``pusher/auth/`` vs the endpoint people write by hand with the
  official ``pusher`` SDK (no rules, ``authenticate()``), behind the same
  middleware.

Prints the median server time of each over ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

import pusher  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

from pusher_django.conf import get_config  # noqa: E402

SOCKET = "1234.5678"
KINDS = {
    "private": "private-room-{}",
    "presence": "presence-room-{}",
    "encrypted": "private-encrypted-room-{}",
}


def official_sdk() -> pusher.Pusher:
    config = get_config()
    return pusher.Pusher(
        app_id=config.app_id,
        key=config.key,
        secret=config.secret,
        host=config.host,
        port=config.port,
        ssl=config.use_tls,
        encryption_master_key_base64=settings.PUSHER["ENCRYPTION_MASTER_KEY_BASE64"],
    )


_SDK: list[pusher.Pusher] = []


@require_POST
def hand_written(request: HttpRequest) -> HttpResponse:
    """The endpoint from the Pusher docs, as a Django view."""
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    channel, socket_id = request.POST["channel_name"], request.POST["socket_id"]
    data = None
    if channel.startswith("presence-"):
        data = {"user_id": str(request.user.pk), "user_info": {"name": request.user.get_username()}}
    auth = _SDK[0].authenticate(channel=channel, socket_id=socket_id, custom_data=data)
    if isinstance(auth.get("shared_secret"), bytes):
        auth["shared_secret"] = auth["shared_secret"].decode()
    return JsonResponse(auth)


urlpatterns = [
    path("pusher/", include("pusher_django.urls")),
    path("sdk/auth/", hand_written),
]


def timed(call: Callable[[], Any], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    with override_settings(ROOT_URLCONF=__name__):
        _SDK.append(official_sdk())
        user, _ = User.objects.get_or_create(username="member")
        client = Client()
        client.force_login(user)
        page = [KINDS[kind].format(n) for n in range(14) for kind in KINDS][:40]

        def singles() -> None:
            for name in page:
                response = client.post("/pusher/auth/", {"socket_id": SOCKET, "channel_name": name})
                assert response.status_code == 200, response.content

        def batch() -> None:
            response = client.post(
                "/pusher/auth/batch/", {"socket_id": SOCKET, "channel_name[]": page}
            )
            assert response.status_code == 200, response.content

        singles()
        batch()  # warm up
        single_page = timed(singles, args.rounds)
        batch_page = timed(batch, args.rounds)
        print(f"page of 40 channels, median of {args.rounds} rounds")
        print(f"  40 x pusher/auth/       {single_page * 1000:8.2f} ms")
        print(f"  1 x pusher/auth/batch/  {batch_page * 1000:8.2f} ms")
        print(f"  batch / singles         {batch_page / single_page:8.3f}  (target <= 0.100)")
        print("one channel, median per request")
        for kind, pattern in KINDS.items():
            body = {"socket_id": SOCKET, "channel_name": pattern.format(1)}

            def ours(body: dict[str, str] = body) -> None:
                assert client.post("/pusher/auth/", body).status_code == 200

            def theirs(body: dict[str, str] = body) -> None:
                assert client.post("/sdk/auth/", body).status_code == 200

            for _ in range(20):
                ours()
                theirs()
            per_ours = timed(ours, args.rounds * 10)
            per_theirs = timed(theirs, args.rounds * 10)
            print(
                f"  {kind:<10} pusher_django {per_ours * 1e6:7.0f} us   "
                f"hand-written SDK {per_theirs * 1e6:7.0f} us   "
                f"ratio {per_ours / per_theirs:5.2f}  (target <= 1.10)"
            )


if __name__ == "__main__":
    main()
