"""Forms of the channels admin: the list filters and the test-event form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pusher_django import safe_json
from pusher_django.channels import ChannelKind
from pusher_django.exceptions import PusherValidationError
from pusher_django.validation import validate_event_name

KIND_CHOICES = [("", _("All kinds"))] + [(kind.name.lower(), kind.label) for kind in ChannelKind]


class ChannelFilterForm(forms.Form):
    starts_with = forms.CharField(label=_("Name starts with"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES, required=False)

    def clean_starts_with(self) -> str:
        return str(self.cleaned_data["starts_with"]).strip()

    def selected_kind(self) -> ChannelKind | None:
        value = self.cleaned_data.get("kind") if self.is_valid() else None
        return ChannelKind[value.upper()] if value else None


class TriggerEventForm(forms.Form):
    event = forms.CharField(label=_("Event name"), max_length=200, initial="admin-test")
    payload = forms.CharField(
        label=_("Data (JSON)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        initial='{"message": "Hello from the Django admin"}',
    )

    def clean_event(self) -> str:
        name = str(self.cleaned_data["event"]).strip()
        try:
            validate_event_name(name)
        except PusherValidationError as err:
            raise forms.ValidationError(str(err)) from err
        if name.startswith(("pusher:", "pusher_internal:")):
            raise forms.ValidationError(_("Event names starting with 'pusher' are reserved."))
        return name

    def clean_payload(self) -> Any:
        try:
            return safe_json.loads(self.cleaned_data["payload"])
        except ValueError as err:
            raise forms.ValidationError(
                _("This is not valid JSON: %(error)s") % {"error": err}
            ) from err
