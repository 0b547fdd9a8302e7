"""History's query shape (docs/outbox-at-scale.md); the tests pass channel, after, limit."""

from pusher_django.models import Delivery

sent = Delivery.objects.sent().filter(channel=channel)
last_id = sent.order_by("-sent_at", "-id").values_list("id", flat=True).first()
anchor = sent.filter(pk=after).values("sent_at").first()
when = anchor["sent_at"]
newer = sent.filter(sent_at__gte=when).exclude(sent_at=when, id__lte=after)
page = newer.order_by("sent_at", "id")[: limit + 1]
