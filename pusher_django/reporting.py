"""Error reports without URL credentials, for ``DEFAULT_EXCEPTION_REPORTER_FILTER``.

Django's own filter hides settings whose *name* looks secret (``SECRET``,
``KEY``, ``PASS``…), so ``PUSHER["SECRET"]`` is hidden but the secret inside
``PUSHER_URL = "https://KEY:SECRET@…"`` (or ``DATABASE_URL``) is printed in
the 500 page and the ADMINS mail. This filter also removes the credentials
of every URL in any setting::

    DEFAULT_EXCEPTION_REPORTER_FILTER = "pusher_django.reporting.SafeExceptionReporterFilter"

``manage.py check`` warns (``pusher_django.W003``) when the filter in use
would print the ``PUSHER_URL`` secret.
"""

from __future__ import annotations

from typing import Any

from django.views import debug

from .conf import redact


class SafeExceptionReporterFilter(debug.SafeExceptionReporterFilter):
    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return redact(cleansed) if isinstance(cleansed, str) else cleansed
