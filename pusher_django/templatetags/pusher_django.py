"""``{% load pusher_django %}``: what a page needs to connect pusher-js to the configured app
and to recover its channels from the positions it was rendered at."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString

from pusher_django.channels import validate_channel_name
from pusher_django.conf import PusherConfig, get_config
from pusher_django.history import positions
from pusher_django.outbox.events import id_field

register = template.Library()
#: The element ``recover()`` reads the positions from.
POSITIONS_ID = "pusher-django-positions"


def pusher_js_options(config: PusherConfig) -> dict[str, Any]:
    """pusher-js options for hosted Pusher (a cluster) or a self-hosted server (soketi)."""
    if config.hosted:
        return {"cluster": config.cluster, "forceTLS": config.use_tls}
    return {
        "cluster": config.cluster or "mt1",  # pusher-js 8 requires one; wsHost wins
        "wsHost": config.ws_host,
        "wsPort": config.ws_port,
        "wssPort": config.ws_port,
        "forceTLS": config.use_tls,
        "enabledTransports": ["ws", "wss"],
        "disableStats": True,
    }


@register.simple_tag(takes_context=True)
def pusher_js_config(
    context: template.Context, element_id: str = "pusher-django-config"
) -> SafeString:
    """The key, pusher-js options, endpoints, CSRF token and listener id, then the helper.

    Writes a JSON script element and ``pusher_django/pusher-django.js``;
    load pusher-js itself before it.
    """
    request = context.get("request")
    data = {
        "key": get_config().key,
        "options": pusher_js_options(get_config()),
        "authEndpoint": reverse("pusher-auth"),
        "batchEndpoint": reverse("pusher-auth-batch"),
        "userAuthEndpoint": reverse("pusher-user-auth"),
        "historyEndpoint": reverse("pusher-history"),
        "idField": id_field(),
        # The listener's presence member id: the helper leaves it out of members and counts.
        "listenerId": get_config().listener.user_id,
        "csrfToken": get_token(request) if request is not None else None,
    }
    script = format_html('<script src="{}"></script>', static("pusher_django/pusher-django.js"))
    return SafeString(json_script(data, element_id) + script)


@register.simple_tag
def pusher_positions(
    *channels: str | Mapping[str, int], element_id: str = POSITIONS_ID
) -> SafeString:
    """The channels' history positions, for ``PusherDjango.recover()`` to start from.

    ``{% pusher_positions "private-room-1" "news" %}`` takes them now;
    ``{% pusher_positions positions %}`` writes a mapping the view took with
    :func:`pusher_django.history.positions` before reading the data it
    shows, which is what makes the page miss nothing. No authorization is
    checked: a position is only an event id, of channels the view chose.
    """
    taken: dict[str, int] = {}
    names: list[str] = []
    for item in channels:
        if isinstance(item, Mapping):
            taken.update(item)
        else:
            names.append(validate_channel_name(item))
    return json_script({**taken, **positions(names)}, element_id)
