"""How long transient failures are retried (docs/outbox-operations.md)."""

PUSHER = {
    # ...
    "OUTBOX": {
        "MAX_AGE": 86400,  # seconds (the default: one day); manage.py check refuses 0 or less
    },
}
