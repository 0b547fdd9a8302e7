"""The "Pusher" admin section: live channels and the delivery outbox."""

from __future__ import annotations

from django.contrib import admin

from pusher_django.admin.channels import ChannelAdmin
from pusher_django.admin.deliveries import DeliveryAdmin
from pusher_django.models import Channel, Delivery

admin.site.register(Channel, ChannelAdmin)
admin.site.register(Delivery, DeliveryAdmin)

__all__ = ["ChannelAdmin", "DeliveryAdmin"]
