"""``manage.py pusher_outbox``: relay, prune, inspect or retry the delivery outbox."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from pusher_django.exceptions import PusherError
from pusher_django.outbox.relay import backlog, prune
from pusher_django.outbox.requeue import failed_rows, requeue
from pusher_django.outbox.runner import RelayRunner
from pusher_django.outbox.status import Reason, waiting

_MAX_ID = 2**63 - 1  # a BigAutoField
_ID_RANGE = re.compile(r"([0-9]{1,19})(?:-([0-9]{1,19}))?", re.ASCII)


def id_range(value: str) -> tuple[int, int]:
    """``A-B`` (both included) or a single id ``A``."""
    match = _ID_RANGE.fullmatch(value.strip())
    if not match:
        raise CommandError(f"--ids takes an id or a range such as 100-200, not {value!r}")
    first = int(match[1])
    last = int(match[2] or first)
    if last > _MAX_ID:
        raise CommandError(f"--ids {value}: ids end at {_MAX_ID}")
    if last < first:
        raise CommandError(f"--ids {value}: the range ends before it starts")
    return first, last


def moment(value: str) -> datetime:
    """An ISO 8601 date or date and time; without an offset, in the current time zone."""
    try:
        parsed = parse_datetime(value.strip())
        if parsed is None and (day := parse_date(value.strip())) is not None:
            parsed = datetime.combine(day, time())
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(
            f"--since takes an ISO 8601 date or time such as 2026-12-01T14:00, not {value!r}"
        )
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class Command(BaseCommand):
    help = (
        "Deliver committed Pusher events that no Celery task sent (relay, the default: a "
        "loop; --once: one pass), delete sent events past OUTBOX['RETENTION'] (prune), "
        "show why each channel's events wait (status), or queue failed events again (retry)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", nargs="?", default="relay", choices=("relay", "prune", "status", "retry")
        )
        parser.add_argument("--once", action="store_true", help="Relay one pass and exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between relay passes (default OUTBOX['RELAY_INTERVAL']).",
        )
        parser.add_argument("--database", default="default", help="The database alias.")
        retry = parser.add_argument_group("retry (failed events only; filters combine)")
        retry.add_argument("--channel", help="Only this channel (its exact name).")
        retry.add_argument("--ids", type=id_range, help="Only ids A-B (both included) or A.")
        retry.add_argument(
            "--since", type=moment, help="Only events created at or after this ISO 8601 time."
        )
        parser.add_argument(
            "--limit", type=int, default=100, help="status: list at most this many channels."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        action = options["action"]
        if action != "retry" and any(options[key] for key in ("channel", "ids", "since")):
            raise CommandError("--channel, --ids and --since are options of `retry`")
        if action == "status":
            self._status(using, options["limit"])
            return
        if action == "prune":
            self.stdout.write(f"pruned {prune(using)} sent event(s)")
            return
        try:
            if action == "retry":
                self._retry(using, options)
                return
            runner = RelayRunner(using, options["interval"])
            if options["once"]:
                self.stdout.write(f"relayed {runner.run_once().sent} event(s)")
                return
            self.stdout.write(f"Relaying the outbox every {runner.interval:g} s (Ctrl-C to stop)")
            runner.run()
        except PusherError as err:
            raise CommandError(str(err)) from err

    def _status(self, using: str, limit: int) -> None:
        state = backlog(using)
        self.stdout.write(
            f"pending {state.pending}, failed {state.failed}, sent {state.sent}, "
            f"oldest pending {state.age():.0f} s"
        )
        now = timezone.now()
        for entry in waiting(using, limit=limit, now=now):
            head = entry.head
            age = (now - head.created_at).total_seconds()
            line = (
                f"{entry.channel}: {entry.pending} pending, oldest #{head.pk} {head.name!r} "
                f"({age:.0f} s old): {entry.reason.value}"
            )
            if entry.holder is not None:
                line += f" (#{entry.holder.pk})"
            if entry.until is not None:
                line += f", until {entry.until.isoformat(timespec='seconds')}"
            if entry.reason is Reason.RETRY:
                line += f" after {head.attempts} attempt(s): {head.error[:200]}"
            self.stdout.write(line)

    def _retry(self, using: str, options: dict[str, Any]) -> None:
        first, last = options["ids"] or (None, None)
        rows = failed_rows(
            using,
            channel=options["channel"],
            first_id=first,
            last_id=last,
            since=options["since"],
        )
        done = requeue(rows)
        self.stdout.write(f"re-queued {done.count} failed event(s)")
        for channel, (n, low, high) in sorted(done.channels.items()):
            self.stdout.write(f"{channel}: {n} event(s), first #{low}, last #{high}")
