"""``manage.py check`` for the Pusher settings.

The rules live in :func:`pusher_django.conf.find_problems`, shared with
:func:`~pusher_django.conf.get_config`, so the checks and the runtime never
disagree. Ids are stable (``pusher_django.E001`` ...) for
``SILENCED_SYSTEM_CHECKS``.
"""

from __future__ import annotations

from typing import Any

from django.core import checks

from .conf import find_problems

__all__ = ["check_settings"]


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for problem in find_problems():
        kind = checks.Error if problem.level == "error" else checks.Warning
        messages.append(kind(problem.message, hint=problem.hint, id=problem.id))
    return messages
