"""Secrets kept out of error reports and debug logs.

Django's own filter hides settings whose *name* looks secret (``SECRET``,
``KEY``, ``PASS``…), so ``PUSHER["SECRET"]`` is hidden but the secret inside
``PUSHER_URL = "https://KEY:SECRET@…"`` (or ``DATABASE_URL``) is printed in
the 500 page and the ADMINS mail, and so is a ``PUSHER_URL`` environment
variable in the debug page's request META. This filter also removes the
credentials of every URL in any setting and META entry::

    DEFAULT_EXCEPTION_REPORTER_FILTER = "pusher_django.reporting.SafeExceptionReporterFilter"

``manage.py check`` warns (``pusher_django.W003``) when the filter in use
would print the ``PUSHER_URL`` secret.

urllib3 logs every request line at DEBUG level, and the REST API's request
lines carry a signature that can be replayed for as long as the server
accepts the timestamp; :func:`install_log_filter` masks it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.views import debug

from .conf import redact

#: The logger urllib3 writes its request lines to.
URLLIB3_LOGGER = "urllib3.connectionpool"
_SIGNATURE_RE = re.compile(r"(auth_signature=)[^&\s\"]*")


class SafeExceptionReporterFilter(debug.SafeExceptionReporterFilter):
    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return redact(cleansed) if isinstance(cleansed, str) else cleansed


def mask_signatures(text: str) -> str:
    """``…&auth_signature=3f2a…`` → ``…&auth_signature=***``."""
    return _SIGNATURE_RE.sub(r"\1***", text)


class SignedURLFilter(logging.Filter):
    """Masks REST signatures in log records; it never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_signatures(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_signatures(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def install_log_filter() -> None:
    """Put :class:`SignedURLFilter` on urllib3's request-line logger, once."""
    logger = logging.getLogger(URLLIB3_LOGGER)
    if not any(isinstance(existing, SignedURLFilter) for existing in logger.filters):
        logger.addFilter(SignedURLFilter())
