"""The transactional outbox: one row per event, written inside the caller's transaction.

A row exists exactly when the transaction that wrote it committed, so no
committed event depends on a callback, a broker or a process surviving.
Workers claim rows with a lease (``lease_token`` / ``lease_until``) rather
than a lock held during the HTTP call, so a killed worker only delays its
rows until the lease runs out.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    #: True when ``data`` is a JSON object, which then carries the event id on the wire.
    tagged = models.BooleanField(default=False)
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

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ("-id",)
        permissions = [("view_delivery_data", _("Can see event data of deliveries"))]
        indexes = [
            models.Index(fields=["status", "id"], name="pusher_dlv_queue"),
            models.Index(fields=["channel", "status", "id"], name="pusher_dlv_channel"),
            models.Index(fields=["coalesce_key", "status"], name="pusher_dlv_coalesce"),
            models.Index(fields=["status", "sent_at"], name="pusher_dlv_sent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} → {self.channel}"
