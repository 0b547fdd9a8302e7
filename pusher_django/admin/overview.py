"""Pusher → Overview: is the realtime pipeline healthy, at a glance, for the last hour or day.

One read-only page for staff with ``view_delivery``: a banner that turns
red when events wait longer than ``OUTBOX["BACKLOG_WARNING"]``, delivery
latency and throughput per minute as SVG charts, the backlog, the busiest
channels, the listener replicas and the webhook and auth counts. It reloads
itself every :data:`REFRESH_SECONDS`. Its figures come from
:func:`pusher_django.health.overview` (counters, heartbeats and
index-backed queries), so its cost does not grow with the outbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _

from pusher_django.admin.charts import Series, bar_chart, line_chart
from pusher_django.health import WINDOWS, Snapshot, overview
from pusher_django.models import Overview

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Overview]
else:
    _ModelAdmin = admin.ModelAdmin

REFRESH_SECONDS = 15
PERCENTILES = ((0.5, "p50", "#2b7bb9"), (0.95, "p95", "#e0a000"), (0.99, "p99", "#c0392b"))


def seconds(value: float | None) -> str:
    """A duration for people: ``850 ms``, ``4.2 s``, ``12 min``, ``3 h``."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    if value < 3600:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def _ago(now: float, moment: float | None) -> float | None:
    return None if moment is None else max(0.0, now - moment)


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def charts(state: Snapshot) -> dict[str, Any]:
    ends = state.minutes[0], state.minutes[len(state.minutes) // 2], state.minutes[-1]
    local = [timezone.localtime(m.start).strftime("%H:%M") for m in ends]
    latency = line_chart(
        [
            Series(label, color, [m.percentile(q) for m in state.minutes])
            for q, label, color in PERCENTILES
        ],
        local,
        title=_("Commit → sent latency per minute (p50, p95, p99)"),
        css_id="pusher-latency-chart",
        fmt=seconds,
    )
    throughput = bar_chart(
        [
            Series(_("sent"), "#3c9d5d", [m.counts["sent"] for m in state.minutes]),
            Series(_("failed"), "#c0392b", [m.counts["failed"] for m in state.minutes]),
        ],
        local,
        title=_("Events sent and failed per minute"),
        css_id="pusher-throughput-chart",
        fmt=_count,
    )
    return {"latency_chart": latency, "throughput_chart": throughput}


class OverviewAdmin(_ModelAdmin):
    """A page, not a list: only the changelist URL exists, and it renders the overview."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("pusher_django.view_delivery"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.changelist_view)
        return [path("", view, name="{}_{}_changelist".format(*info))]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        window = request.GET.get("window", "hour")
        if window not in WINDOWS:
            window = "hour"
        state = overview(window)
        now = state.now.timestamp()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Pusher overview"),
            "opts": self.opts,
            "state": state,
            "window": window,
            "windows": list(WINDOWS),
            "refresh": REFRESH_SECONDS,
            "p50": seconds(state.percentile(0.5)),
            "p95": seconds(state.percentile(0.95)),
            "p99": seconds(state.percentile(0.99)),
            "oldest_age": seconds(state.backlog.oldest_age if state.backlog.pending else None),
            "last_sent_ago": (
                seconds((state.now - state.backlog.last_sent).total_seconds())
                if state.backlog.last_sent
                else None
            ),
            "replicas": [
                {
                    "replica": replica,
                    "status": replica.status(now),
                    "connected_for": seconds(_ago(now, replica.connected_since)),
                    "last_frame_ago": seconds(_ago(now, replica.last_frame)),
                    "beat_ago": seconds(now - replica.beat_at),
                }
                for replica in state.replicas
            ],
            **charts(state),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/pusher_django/overview.html", context)
