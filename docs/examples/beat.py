"""The relay under Celery beat (docs/explanation/delivery-guarantees.md)."""

CELERY_BEAT_SCHEDULE = {
    "pusher-outbox": {"task": "pusher_django.relay_outbox", "schedule": 10.0},
}
