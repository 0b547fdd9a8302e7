"""The outbox's index-shaped filters (docs/outbox-at-scale.md)."""

from pusher_django.models import Delivery

open_rows = Delivery.objects.open()  # NOT status = 'sent'
pending = Delivery.objects.pending()  # NOT status = 'sent' AND status = 'pending'
failed = Delivery.objects.failed()  # NOT status = 'sent' AND status = 'failed'
sent = Delivery.objects.sent()  # status = 'sent'
oldest_first = Delivery.objects.pending().by_id()  # ordered by id without a walk of the table
