"""The listener's tunables: the ``PUSHER["LISTENER"]`` section of the configuration.

:class:`ListenerOptions` is :class:`pusher_django.conf.ListenerSettings`
under the name the listener API has always used; build one directly in
tests, or take ``ListenerOptions.from_settings()``.
"""

from __future__ import annotations

from pusher_django.conf import ListenerSettings

ListenerOptions = ListenerSettings

__all__ = ["ListenerOptions"]
