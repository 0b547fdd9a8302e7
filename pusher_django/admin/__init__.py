"""The "Pusher" admin section: live channels, the delivery outbox and its overview."""

from __future__ import annotations

from django.contrib import admin

from pusher_django.admin.channels import ChannelAdmin
from pusher_django.admin.deliveries import DeliveryAdmin
from pusher_django.admin.overview import OverviewAdmin
from pusher_django.models import Channel, Delivery, Overview

admin.site.register(Channel, ChannelAdmin)
admin.site.register(Delivery, DeliveryAdmin)
admin.site.register(Overview, OverviewAdmin)

__all__ = ["ChannelAdmin", "DeliveryAdmin", "OverviewAdmin"]
