"""Pusher → Deliveries: the outbox rows, their failures, and Retry / Discard.

A plain ``ModelAdmin`` over :class:`~pusher_django.models.Delivery`. Rows are
read-only (their content is what was committed); staff with
``change_delivery`` may retry failed rows and those with
``delete_delivery`` may discard rows. The pending/failed counts and the age
of the backlog sit above the list.

Event data is the plaintext of encrypted channels too, so it is shown only
with ``view_delivery_data`` (list and detail) and never searched or filtered
on: a lookup such as ``?data__contains=`` would answer yes or no about
hidden data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pusher_django.models import Delivery
from pusher_django.outbox import relay
from pusher_django.outbox.requeue import requeue

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Delivery]
else:
    _ModelAdmin = admin.ModelAdmin


DATA_PERMISSION = "pusher_django.view_delivery_data"
MASK = gettext_lazy("hidden (needs the permission “Can see event data of deliveries”)")


def sees_data(request: HttpRequest) -> bool:
    return request.user.has_perm(DATA_PERMISSION)


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
        "event_data",
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

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = super().get_list_display(request)
        return (*columns, "data_preview") if sees_data(request) else columns

    def get_readonly_fields(self, request: HttpRequest, obj: Delivery | None = None) -> Any:
        fields = super().get_readonly_fields(request, obj)
        return tuple("data" if f == "event_data" and sees_data(request) else f for f in fields)

    def get_fields(self, request: HttpRequest, obj: Delivery | None = None) -> Any:
        return self.get_readonly_fields(request, obj)

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest | None = None) -> bool:
        if lookup.split(LOOKUP_SEP, 1)[0] == "data":
            return False
        if request is None:  # Django 4.2 passes no request
            return super().lookup_allowed(lookup, value)  # type: ignore[call-arg]
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description=gettext_lazy("data"))
    def event_data(self, obj: Delivery) -> str:
        return str(MASK)

    @admin.display(description=gettext_lazy("data"))
    def data_preview(self, obj: Delivery) -> str:
        return obj.data if len(obj.data) <= 80 else obj.data[:79] + "…"

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
        count = requeue(queryset).count
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
