"""The "Pusher > Channels" admin section (registered on the default admin site)."""

from __future__ import annotations

from django.contrib import admin

from pusher_django.admin.channels import ChannelAdmin
from pusher_django.models import Channel

admin.site.register(Channel, ChannelAdmin)

__all__ = ["ChannelAdmin"]
