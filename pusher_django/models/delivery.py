"""The transactional outbox: one row per event, written inside the caller's transaction.

A row exists exactly when the transaction that wrote it committed, so no
committed event depends on a callback, a broker or a process surviving.
Workers claim rows with a lease (``lease_token`` / ``lease_until``) rather
than a lock held during the HTTP call, so a killed worker only delays its
rows until the lease runs out.

The indexes are partial, so a row costs index writes only where its current
status is looked for: an insert feeds the open-rows index, marking it sent
feeds the history and expiry indexes, and the retained sent rows (most of
the table) never show in the cost of claiming. MariaDB has no partial
indexes: Django creates them there without their conditions, which still
serve the same queries, and migration 0005 gives ``channel`` a binary
collation so that its lookups compare exactly.
"""

from __future__ import annotations

import uuid
from typing import cast

from django.db import connections, models
from django.db.models import F, Q
from django.db.models.expressions import CombinedExpression
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pusher_django.db import flush_outbox_rows

#: Rows not yet sent: pending and dead letters, the few rows the delivery path works on.
OPEN = ~Q(status="sent")


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    """Filters spelled exactly as the partial indexes' conditions, so every database uses them.

    SQLite uses a partial index only when the query repeats its condition
    term for term, hence the :data:`OPEN` term in :meth:`pending` and
    :meth:`failed` although their status implies it.
    """

    def open(self) -> DeliveryQuerySet:
        return self.filter(OPEN)

    def pending(self) -> DeliveryQuerySet:
        return self.filter(OPEN, status="pending")

    def failed(self) -> DeliveryQuerySet:
        return self.filter(OPEN, status="failed")

    def sent(self) -> DeliveryQuerySet:
        return self.filter(status="sent")

    def by_id(self, *, newest_first: bool = False) -> DeliveryQuerySet:
        """Ordered by id, sorting the rows an index found rather than walking the table.

        Asked to order by its rowid, SQLite walks the table in rowid order to
        save a sort, past every retained sent row; ``id + 0`` is not the rowid.
        """
        key: F | CombinedExpression = F("id")
        if connections[self.db].vendor == "sqlite":
            key = F("id") + 0
        return self.order_by(key.desc() if newest_first else key.asc())


_Manager = models.Manager.from_queryset(DeliveryQuerySet)


class DeliveryManager(_Manager["Delivery"]):
    """Every query first writes the rows an :class:`~pusher_django.db.OutboxFlushMixin`
    connection keeps for its commit, so the ORM sees a transaction's rows as it writes them."""

    def get_queryset(self) -> DeliveryQuerySet:
        flush_outbox_rows()
        return cast(DeliveryQuerySet, super().get_queryset())


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    id = models.BigAutoField(primary_key=True)
    channel = models.CharField(_("channel"), max_length=200)
    name = models.CharField(_("event"), max_length=200)
    #: The event data as sent before encryption: the serialized string.
    data = models.TextField(_("data"))
    #: ``data`` is a JSON object, which then carries the event id as its first key on the wire.
    data_is_object = models.BooleanField(default=False)
    #: Too large for Pusher: sent as a reference that pages fetch from ``pusher/history/``.
    is_reference = models.BooleanField(default=False)
    socket_id = models.CharField(_("excluded socket"), max_length=50, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=7, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True, default="")
    #: One value per writing transaction: events of one transaction merge only with each other.
    batch = models.UUIDField(default=uuid.uuid4, editable=False)
    coalesce_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    action = models.CharField(max_length=7, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    available_at = models.DateTimeField(_("due"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    objects = DeliveryManager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ("-id",)
        permissions = [("view_delivery_data", _("Can see event data of deliveries"))]
        indexes = [
            # Claiming, channel heads, next_due, the counts and the admin's open views.
            models.Index(fields=["status", "id"], name="pusher_dlv_open", condition=OPEN),
            # Merging into a pending row of the same instance.
            models.Index(
                fields=["coalesce_key"],
                name="pusher_dlv_merge",
                condition=Q(status="pending", coalesce_key__isnull=False),
            ),
            # History: a channel's sent rows in the order they went out.
            models.Index(
                fields=["channel", "sent_at", "id"],
                name="pusher_dlv_history",
                condition=Q(status="sent"),
            ),
            # Prune, oldest first, and the admin's sent view.
            models.Index(
                fields=["sent_at", "id"], name="pusher_dlv_expiry", condition=Q(status="sent")
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} → {self.channel}"
