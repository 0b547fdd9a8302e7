"""No tables: one unmanaged model that gives the admin its "Pusher > Channels" entry.

Channels live on the Pusher server, not in the database. The model exists so
that Django creates the ``view_channel`` and ``change_channel`` permissions
and lists the section in the admin index; the admin reads the live data
through the REST API.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.Model):
    name = models.CharField(_("name"), max_length=200, primary_key=True)

    class Meta:
        managed = False
        default_permissions = ("view", "change")
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name
