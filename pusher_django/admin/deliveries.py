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

The table keeps every sent row for ``OUTBOX["RETENTION"]``, millions of them,
so every view here is one index range (see ``docs/outbox-at-scale.md``): the
list opens on the undelivered rows, each status view reads its own partial
index, sent rows are listed newest sent first, and nothing counts the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pusher_django.models import Delivery
from pusher_django.models.delivery import DeliveryQuerySet
from pusher_django.outbox import relay
from pusher_django.outbox.requeue import requeue

if TYPE_CHECKING:
    from django.db.models.query import _OrderByFieldName

    _ModelAdmin = admin.ModelAdmin[Delivery]
    _Paginator = Paginator[Delivery]
else:
    _ModelAdmin = admin.ModelAdmin
    _Paginator = Paginator


#: The status views, each a filter of :class:`DeliveryQuerySet` that one partial index serves.
_VIEWS = ("open", "pending", "failed", "sent")


class StatusFilter(admin.SimpleListFilter):
    """Undelivered rows by default: the ones an operator acts on."""

    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("pending", _("pending")),
            ("failed", _("failed")),
            ("sent", _("sent")),
            ("all", _("all")),
        ]

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("undelivered"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> QuerySet[Delivery]:
        rows = cast(DeliveryQuerySet, queryset)
        view = self.value() or "open"
        if view in _VIEWS:
            return cast(QuerySet[Delivery], getattr(rows, view)())
        channel = _channel(request)
        if channel is None:
            return queryset  # newest first straight off the primary key
        # Each part of the union reads its own partial index; an OR would read the table.
        parts = (
            rows.filter(channel=channel).order_by().values("pk")
            for rows in (rows.open(), rows.sent())
        )
        return queryset.filter(pk__in=next(parts).union(*parts))


def _channel(request: HttpRequest) -> str | None:
    """The one channel the list is narrowed to, by the filter or by a search for its name."""
    term = request.GET.get("q", "").strip()
    return request.GET.get(ChannelFilter.parameter_name) or (
        term if term and not term.isdigit() else None
    )


DATA_PERMISSION = "pusher_django.view_delivery_data"
MASK = gettext_lazy("hidden (needs the permission “Can see event data of deliveries”)")


def sees_data(request: HttpRequest) -> bool:
    return request.user.has_perm(DATA_PERMISSION)


class ChannelFilter(admin.SimpleListFilter):
    """The channels that have undelivered events (any channel works through the URL)."""

    title = gettext_lazy("channel")
    parameter_name = "channel"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = Delivery.objects.open().order_by("channel").values_list("channel", flat=True)
        return [(name, name) for name in names.distinct()[:50]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> QuerySet[Delivery]:
        value = self.value()
        return queryset.filter(channel=value) if value else queryset


class BoundedCountPaginator(_Paginator):
    """Counts a view only up to ``relay.COUNT_CAP`` rows; beyond, the table's estimate.

    The pages past the cap of a filtered view are not linked: narrow the
    filter to reach older rows.
    """

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return super().count
        counted = relay.bounded_count(rows)
        if counted >= relay.COUNT_CAP and not rows.query.where:
            return max(relay.estimated_rows(rows.db), counted)
        return counted


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
    list_filter = (StatusFilter, ChannelFilter)
    search_fields = ("=id", "=channel")
    search_help_text = gettext_lazy("An event id or an exact channel name.")
    ordering = ("-id",)
    list_per_page = 50
    paginator = BoundedCountPaginator
    show_full_result_count = False
    actions = ("retry_deliveries", "discard_deliveries")
    change_list_template = "admin/pusher_django/delivery/change_list.html"
    readonly_fields = (
        "id",
        "status",
        "channel",
        "name",
        "event_data",
        "by_reference",
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

    @admin.display(description=gettext_lazy("sent by reference"), boolean=True)
    def by_reference(self, obj: Delivery) -> bool:
        """Too large for Pusher: pages fetched the data from the history (docs/large-events.md)."""
        return obj.is_reference

    @admin.display(description=gettext_lazy("data"))
    def data_preview(self, obj: Delivery) -> str:
        return obj.data if len(obj.data) <= 80 else obj.data[:79] + "…"

    def get_ordering(self, request: HttpRequest) -> list[_OrderByFieldName]:
        """Newest first, in the order the index that serves the view holds its rows."""
        view = request.GET.get(StatusFilter.parameter_name)
        if view == "sent":
            return ["-sent_at", "-id"]
        if view == "all":
            return ["-id"]
        return list(Delivery.objects.by_id(newest_first=True).query.order_by)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Delivery], search_term: str
    ) -> tuple[QuerySet[Delivery], bool]:
        """An id or an exact channel name: both index lookups (a substring search is not)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(pk=int(term)), False
        return queryset.filter(channel=term), False

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 says where the actions show (a change list or a form); earlier ones do not.
        if action_location is None:
            actions = super().get_actions(request)
        else:
            actions = super().get_actions(request, action_location=action_location)  # type: ignore[call-arg]
        actions.pop("delete_selected", None)  # "Discard" is the one way to remove rows
        return actions

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        """Rows are read-only whatever the permissions: the page views, it never saves."""
        readonly = {"title": _("View delivery"), "show_save": False}
        readonly |= {"show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, readonly | (extra_context or {}))

    @admin.display(description=gettext_lazy("last error"), ordering="error")
    def short_error(self, obj: Delivery) -> str:
        return obj.error if len(obj.error) <= 60 else obj.error[:59] + "…"

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
