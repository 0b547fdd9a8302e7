"""Pusher → Deliveries: the outbox rows, their failures, and Retry / Discard.

A plain ``ModelAdmin`` over :class:`~pusher_django.models.Delivery`. Rows are
read-only (their content is what was committed); staff with
``change_delivery`` may retry failed rows and those with
``delete_delivery`` may discard rows. The pending/failed counts and the age
of the backlog sit above the list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pusher_django.models import Delivery
from pusher_django.outbox import relay

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Delivery]
else:
    _ModelAdmin = admin.ModelAdmin


class ChannelFilter(admin.SimpleListFilter):
    """The channels that have undelivered events (any channel works through the URL)."""

    title = gettext_lazy("channel")
    parameter_name = "channel"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        open_rows = Delivery.objects.exclude(status=Delivery.Status.SENT)
        names = open_rows.order_by("channel").values_list("channel", flat=True).distinct()
        return [(name, name) for name in names[:50]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> QuerySet[Delivery]:
        value = self.value()
        return queryset.filter(channel=value) if value else queryset


class DeliveryAdmin(_ModelAdmin):
    list_display = (
        "id",
        "status",
        "channel",
        "name",
        "attempts",
        "created_at",
        "sent_at",
        "short_error",
    )
    list_display_links = ("id",)
    list_filter = ("status", ChannelFilter)
    search_fields = ("=id", "channel", "name", "error")
    ordering = ("-id",)
    list_per_page = 50
    actions = ("retry_deliveries", "discard_deliveries")
    change_list_template = "admin/pusher_django/delivery/change_list.html"
    readonly_fields = (
        "id",
        "status",
        "channel",
        "name",
        "data",
        "socket_id",
        "attempts",
        "error",
        "created_at",
        "available_at",
        "sent_at",
        "coalesce_key",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=gettext_lazy("last error"), ordering="error")
    def short_error(self, obj: Delivery) -> str:
        return obj.error if len(obj.error) <= 120 else obj.error[:119] + "…"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            response.context_data["backlog"] = relay.backlog()
        return response

    @admin.action(
        description=gettext_lazy("Retry the selected failed deliveries"), permissions=["change"]
    )
    def retry_deliveries(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        ids = list(queryset.filter(status=Delivery.Status.FAILED).values_list("id", flat=True))
        count = relay.retry(ids)
        if count:
            from pusher_django import tasks

            tasks.enqueue_or_run(
                tasks.deliver_outbox,
                queryset.db,
                fallback=lambda: relay.deliver(queryset.db, max_rounds=1),
            )
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery is queued again.",
                "%(count)d deliveries are queued again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )

    @admin.action(
        description=gettext_lazy("Discard the selected deliveries"), permissions=["delete"]
    )
    def discard_deliveries(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count, _details = queryset.delete()
        self.message_user(request, _("%(count)d deliveries discarded.") % {"count": count})
