"""The channels admin: live list, channel detail, terminate a user, trigger a test event.

Nothing here reads the database: every page asks the Pusher REST API. A
failing API (unreachable, wrong credentials, rate limited) becomes an admin
error message on the page, never a 500, and never shows a secret.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from pusher_django.admin.forms import ChannelFilterForm, TriggerEventForm
from pusher_django.admin.live import ChannelDetail, ChannelRow, channel_detail, list_channels
from pusher_django.channels import validate_channel_name
from pusher_django.client import get_client
from pusher_django.conf import get_config
from pusher_django.exceptions import PusherError, PusherValidationError
from pusher_django.models import Channel
from pusher_django.presence import is_listener
from pusher_django.user_connections import terminate_connections
from pusher_django.validation import validate_user_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemberRow:
    """A presence member as the channel detail page shows it: a row of its table."""

    id: str
    name: str
    admin_url: str | None
    terminate_url: str | None
    is_listener: bool = False


def _accounts(ids: list[str]) -> dict[str, Any]:
    """The users whose pk is one of ``ids`` (ids that are no pk are skipped)."""
    user_model = get_user_model()
    pks = []
    for user_id in ids:
        with contextlib.suppress(ValidationError, ValueError, TypeError):
            pks.append(user_model._meta.pk.to_python(user_id))
    return {str(user.pk): user for user in user_model._default_manager.filter(pk__in=pks)}


def _display_name(account: Any) -> str:
    if account is None:
        return ""
    full_name = account.get_full_name() if hasattr(account, "get_full_name") else ""
    return str(full_name or account.get_username())


def _can_sign_in(user_id: str) -> bool:
    """Only ids a user can sign in with have connections to terminate."""
    try:
        validate_user_id(user_id)
    except PusherValidationError:
        return False
    return True


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Channel]
else:  # ModelAdmin is not subscriptable at run time
    _ModelAdmin = admin.ModelAdmin


class ChannelAdmin(_ModelAdmin):
    """Registered for the unmanaged :class:`~pusher_django.models.Channel`."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path(  # presence ids may hold any character, "/" included
                "live/<str:name>/terminate/<path:user_id>/",
                wrap(self.terminate_view),
                name=f"{prefix}_terminate",
            ),
            path("live/<str:name>/", wrap(self.detail_view), name=f"{prefix}_detail"),
            path("", wrap(self.changelist_view), name=f"{prefix}_changelist"),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "has_view_permission": self.has_view_permission(request),
            "has_change_permission": self.has_change_permission(request),
            **extra,
        }

    def _failed(self, request: HttpRequest, what: str, err: PusherError) -> None:
        logger.warning("Pusher admin: %s failed: %s", what, err)
        self.message_user(
            request, _("%(what)s failed: %(error)s") % {"what": what, "error": err}, messages.ERROR
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ChannelFilterForm(request.GET or None)
        prefix = form.cleaned_data["starts_with"] if form.is_valid() else ""
        kind = form.selected_kind() if form.is_bound else None
        rows: list[ChannelRow] = []
        try:
            rows = list_channels(get_client(), prefix or None)
        except PusherError as err:
            self._failed(request, _("Listing channels"), err)
        if kind is not None:
            rows = [row for row in rows if row.kind is kind]
        context = self._context(
            request,
            _("Live Pusher channels"),
            rows=rows,
            form=form,
            cl_count=len(rows),
        )
        return TemplateResponse(request, "admin/pusher_django/channel/change_list.html", context)

    def _detail_url(self, name: str) -> str:
        return reverse(f"{self.admin_site.name}:pusher_django_channel_detail", args=[name])

    def detail_view(self, request: HttpRequest, name: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            validate_channel_name(name)
        except PusherValidationError as err:
            self.message_user(request, str(err), messages.ERROR)
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:pusher_django_channel_changelist")
            )
        form = TriggerEventForm()
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            form = TriggerEventForm(request.POST)
            if form.is_valid():
                event = form.cleaned_data["event"]
                try:
                    get_client().trigger(name, event, form.cleaned_data["payload"], socket_id=None)
                except PusherError as err:
                    self._failed(request, _("Triggering %(event)s") % {"event": event}, err)
                else:
                    self.message_user(
                        request,
                        _("Event %(event)s triggered on %(channel)s.")
                        % {"event": event, "channel": name},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._detail_url(name))
        detail: ChannelDetail | None = None
        try:
            detail = channel_detail(get_client(), name)
        except PusherError as err:
            self._failed(request, _("Reading channel %(channel)s") % {"channel": name}, err)
        for note in detail.notes if detail else ():
            self.message_user(request, note, messages.WARNING)
        users = self._presence_users(request, name, detail.users) if detail else []
        context = self._context(request, name, channel=name, detail=detail, users=users, form=form)
        return TemplateResponse(request, "admin/pusher_django/channel/detail.html", context)

    def _presence_users(
        self, request: HttpRequest, channel: str, ids: list[str]
    ) -> list[MemberRow]:
        """Each member id, with its Django user when the id is a user's pk (the default)."""
        accounts = _accounts(ids) if get_config().auth.presence_user_id is None else {}
        user_meta = get_user_model()._meta
        linked = self.admin_site.is_registered(get_user_model())
        change = f"{self.admin_site.name}:{user_meta.app_label}_{user_meta.model_name}_change"
        terminate = f"{self.admin_site.name}:pusher_django_channel_terminate"
        users = []
        for user_id in ids:
            if is_listener(user_id):  # the site's own pusher_listen: nobody to terminate
                users.append(
                    MemberRow(user_id, _("pusher_listen (this site's listener)"), None, None, True)
                )
                continue
            account = accounts.get(user_id)
            users.append(
                MemberRow(
                    id=user_id,
                    name=_display_name(account),
                    admin_url=reverse(change, args=[account.pk]) if account and linked else None,
                    terminate_url=(
                        reverse(terminate, args=[channel, user_id])
                        if _can_sign_in(user_id)
                        else None
                    ),
                )
            )
        return users

    def terminate_view(self, request: HttpRequest, name: str, user_id: str) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            validate_user_id(user_id)
        except PusherValidationError as err:
            self.message_user(request, str(err), messages.ERROR)
            return HttpResponseRedirect(self._detail_url(name))
        if is_listener(user_id):
            self.message_user(
                request, _("That member is this site's listener (pusher_listen)."), messages.ERROR
            )
            return HttpResponseRedirect(self._detail_url(name))
        if request.method == "POST":
            self._terminate(request, user_id)
            return HttpResponseRedirect(self._detail_url(name))
        who = self._who(user_id)
        context = self._context(
            request,
            _("Terminate connections of %(who)s") % {"who": who},
            channel=name,
            user_id=user_id,
            who=who,
            detail_url=self._detail_url(name),
        )
        return TemplateResponse(
            request, "admin/pusher_django/channel/terminate_confirm.html", context
        )

    def _who(self, user_id: str) -> str:
        """The user's name and member id, or the id alone when it is no account's."""
        account = (
            _accounts([user_id]).get(user_id)
            if get_config().auth.presence_user_id is None
            else None
        )
        name = _display_name(account)
        return f"{name} (user {user_id})" if name else _("user %(user)s") % {"user": user_id}

    def _terminate(self, request: HttpRequest, user_id: str) -> None:
        try:
            queued = terminate_connections(user_id)
        except PusherError as err:
            self._failed(request, _("Terminating user %(user)s") % {"user": user_id}, err)
            return
        if queued:
            text = _("Terminating the connections of user %(user)s (queued).")
        else:
            text = _("The connections of user %(user)s were terminated.")
        self.message_user(request, text % {"user": user_id}, messages.SUCCESS)
