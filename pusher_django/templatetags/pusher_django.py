"""``{% load pusher_django %}``: what a page needs to connect pusher-js to the configured app."""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString

from pusher_django.conf import PusherConfig, get_config
from pusher_django.outbox.events import id_field

register = template.Library()


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
