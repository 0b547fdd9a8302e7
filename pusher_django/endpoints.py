"""What every pusher_django HTTP endpoint shares: JSON errors and the 503 for broken settings.

The endpoints answer pusher-js and Pusher, not people, so every answer is
short JSON. A broken configuration (settings, a dotted path that does not
import, a misconfigured rule) is the operator's problem: it is logged and
answered with a generic 503 that describes nothing, in one place,
:func:`endpoint`, so no view can forget it or leak the details.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib.auth import decorators as auth_decorators
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

#: The body of every refusal: which rule, user or check refused is for the log only.
FORBIDDEN = "Forbidden."

_View = TypeVar("_View", bound=Callable[..., HttpResponse])


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def unavailable(what: str, err: BaseException) -> JsonResponse:
    """A configuration problem: the operator reads the log, the caller learns nothing."""
    logger.error("Pusher %s is unavailable: %s", what, err.__cause__ or err)
    return error("Pusher is not available.", 503)


def endpoint(what: str) -> Callable[[_View], _View]:
    """Make a view a pusher_django endpoint, named ``what`` in the operator's log.

    Configuration errors (:class:`~django.core.exceptions.ImproperlyConfigured`,
    which :class:`~pusher_django.exceptions.PusherConfigurationError` is, and
    a failed import of a configured dotted path) become the 503. The view is
    exempt from ``LoginRequiredMiddleware`` (Django 5.1+): it answers
    anonymous callers itself, the way pusher-js and Pusher expect.
    """

    def decorate(view: _View) -> _View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except (ImproperlyConfigured, ImportError) as err:
                return unavailable(what, err)

        return login_not_required(cast(_View, wrapper))

    return decorate


def login_not_required(view: _View) -> _View:
    """Exempt from ``LoginRequiredMiddleware``; Django < 5.1 has neither."""
    exempt = getattr(auth_decorators, "login_not_required", None)
    return cast(_View, exempt(view)) if exempt is not None else view
