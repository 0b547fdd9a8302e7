"""``manage.py pusher_outbox``: relay, prune or inspect the delivery outbox."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pusher_django.exceptions import PusherError
from pusher_django.outbox.relay import backlog, prune
from pusher_django.outbox.runner import RelayRunner


class Command(BaseCommand):
    help = (
        "Deliver committed Pusher events that no Celery task sent (relay, the default: a "
        "loop; --once: one pass), delete sent events past OUTBOX['RETENTION'] (prune), "
        "or print the counts (status)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", nargs="?", default="relay", choices=("relay", "prune", "status")
        )
        parser.add_argument("--once", action="store_true", help="Relay one pass and exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between relay passes (default OUTBOX['RELAY_INTERVAL']).",
        )
        parser.add_argument("--database", default="default", help="The database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        action = options["action"]
        if action == "status":
            state = backlog(using)
            self.stdout.write(
                f"pending {state.pending}, failed {state.failed}, sent {state.sent}, "
                f"oldest pending {state.age():.0f} s"
            )
            return
        if action == "prune":
            self.stdout.write(f"pruned {prune(using)} sent event(s)")
            return
        runner = RelayRunner(using, options["interval"])
        try:
            if options["once"]:
                self.stdout.write(f"relayed {runner.run_once()} event(s)")
                return
            self.stdout.write(f"Relaying the outbox every {runner.interval:g} s (Ctrl-C to stop)")
            runner.run()
        except PusherError as err:
            raise CommandError(str(err)) from err
