"""``manage.py pusher_listen``: hold a Pusher websocket and send Django signals."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pusher_django.conf import get_config
from pusher_django.exceptions import PusherError
from pusher_django.listener import Listener, listener_settings
from pusher_django.listener.leader import LeaderLock
from pusher_django.listener.runner import EXIT_OK, ListenerRunner


class Command(BaseCommand):
    help = (
        "Connect to Pusher over a websocket, join the given channels (and "
        "PUSHER['LISTENER']['CHANNELS']) and send pusher_django.signals for "
        "members, counts, cache misses and events."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--channel",
            "-c",
            action="append",
            default=[],
            dest="channels",
            metavar="NAME",
            help="A channel to join (repeatable).",
        )
        parser.add_argument(
            "--lock",
            action="store_true",
            help="Dispatch only while holding a Redis lock, so that one of several "
            "replicas sends signals at a time (PUSHER['LISTENER']['LOCK_URL'], "
            "default CELERY_BROKER_URL).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            listener_options = listener_settings(options["channels"])
            config = get_config()
        except PusherError as err:
            raise CommandError(str(err)) from err
        if not listener_options.channels:
            self.stderr.write(
                "No channels to join: pass --channel NAME or set PUSHER['LISTENER']['CHANNELS']. "
                "Connecting anyway (sign-in and server-to-user events only)."
            )
        listener = Listener(options=listener_options, config=config)
        lock = None
        if options["lock"]:
            url = listener_options.lock_url or getattr(settings, "CELERY_BROKER_URL", None)
            if not url or not str(url).startswith(("redis://", "rediss://", "unix://")):
                raise CommandError(
                    "--lock needs Redis: set PUSHER['LISTENER']['LOCK_URL'] = 'redis://...'."
                )
            name = f"pusher_django:listener:{config.app_id}"
            lock = LeaderLock(listener, url, ttl=listener_options.lock_ttl, name=name)
        self.stdout.write(
            f"Listening on {config.ws_host}:{config.ws_port} for "
            f"{', '.join(listener_options.channels) or 'no channels'} (Ctrl-C to stop)"
        )
        code = ListenerRunner(listener, lock).run()
        if code != EXIT_OK:
            sys.exit(code)
