"""A stand-in for a web process: saves messages in transactions, then exits.

``python -m tests.support.web_process ROOM COUNT PER_TX PREFIX [--die-after-commit]``
is run with :func:`tests.support.django_env.django_env`. ``--die-after-commit``
kills the process from an ``on_commit`` callback registered before the
broadcasts' hand-off, so the rows are committed and nothing was handed off.
"""

from __future__ import annotations

import argparse
import os

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("room", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("per_tx", type=int)
    parser.add_argument("prefix")
    parser.add_argument("--die-after-commit", action="store_true")
    args = parser.parse_args()
    django.setup()
    from django.db import transaction

    from tests import celery_app  # noqa: F401 - a project's Celery app, as its __init__ loads it
    from tests.testapp.models import Message

    for start in range(0, args.count, args.per_tx):
        with transaction.atomic():
            if args.die_after_commit:
                transaction.on_commit(lambda: os._exit(9))
            for n in range(start, min(start + args.per_tx, args.count)):
                Message.objects.create(room_id=args.room, text=f"{args.prefix}{n}")


if __name__ == "__main__":
    main()
