"""No table: a proxy of the outbox that gives the admin its "Pusher > Overview" entry.

It creates no permission of its own (``default_permissions = ()``): the page
is for whoever may view deliveries (``view_delivery``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .delivery import Delivery


class Overview(Delivery):
    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = _("overview")
        verbose_name_plural = _("overview")
