"""Signals for what happens on Pusher, from the listener and from webhooks.

Application code connects ``@receiver(member_added)`` once and does not care
which source told it: both the websocket listener (``manage.py pusher_listen``,
channels it joins) and the webhook endpoint (every channel of the app) send
the same signal with the same keyword arguments. Every signal also carries
``source``: ``"listener"`` or ``"webhook"``. The ``sender`` is
:class:`pusher_django.listener.Listener` or
:class:`pusher_django.webhooks.Webhook`, so a receiver can also filter with
``sender=``.

The signals cache their receivers per sender (``use_caching``): the listener
sends one per event, and Django's lookup of live receivers was a visible
share of its cost per event.
"""

from __future__ import annotations

from django.dispatch import Signal

LISTENER = "listener"
WEBHOOK = "webhook"

#: A user joined a presence channel. kwargs: ``channel``, ``user_id``,
#: ``user_info`` (``None`` from webhooks, which do not carry it), ``source``.
member_added = Signal(use_caching=True)

#: A user left a presence channel. kwargs: ``channel``, ``user_id``,
#: ``user_info`` (the member's last known info; ``None`` if never seen),
#: ``source``.
member_removed = Signal(use_caching=True)

#: The number of subscriptions of a (non-presence) channel changed. kwargs:
#: ``channel``, ``subscription_count`` (int), ``source``.
subscription_count = Signal(use_caching=True)

#: A cache channel was subscribed while it held no cached event. kwargs:
#: ``channel``, ``source``.
cache_miss = Signal(use_caching=True)

#: An event arrived on a channel the listener joined (client events
#: included). kwargs: ``channel``, ``event``, ``data`` (decoded JSON when it
#: is JSON, decrypted on encrypted channels), ``user_id`` (sender of a client
#: event on a presence channel, else ``None``), ``source``.
event_received = Signal(use_caching=True)

#: The listener's subscription succeeded (again, after each reconnect).
#: kwargs: ``channel``, ``members`` (presence: ``{user_id: user_info}``, else
#: ``{}``), ``source``.
subscription_succeeded = Signal(use_caching=True)

#: The server refused a subscription. kwargs: ``channel``, ``status`` (int or
#: ``None``), ``error`` (message), ``source``.
subscription_error = Signal(use_caching=True)

#: The listener's connection changed state. kwargs: ``previous``,
#: ``current`` (values of :class:`pusher_django.listener.State`),
#: ``socket_id`` (``None`` unless connected), ``source``.
connection_state_changed = Signal(use_caching=True)

#: The server sent ``pusher:error`` on an open connection. kwargs: ``code``
#: (int or ``None``), ``message``, ``source``.
connection_error = Signal(use_caching=True)

#: An event on an encrypted channel could not be decrypted (wrong master key
#: or plaintext sent by a misbehaving client); it is not delivered as
#: ``event_received``. kwargs: ``channel``, ``event``, ``error``, ``source``.
decryption_failed = Signal(use_caching=True)

#: The listener refused a frame it cannot use (not JSON, too large or too
#: deep, or one whose handling raised); the connection stays open. kwargs:
#: ``event`` (the frame's event name, or ``None``), ``error`` (why),
#: ``source``.
frame_rejected = Signal(use_caching=True)

#: (webhook) A channel got its first subscriber. kwargs: ``channel``, ``source``.
channel_occupied = Signal(use_caching=True)

#: (webhook) A channel lost its last subscriber. kwargs: ``channel``, ``source``.
channel_vacated = Signal(use_caching=True)

#: (webhook) A client sent a ``client-`` event. kwargs: ``channel``,
#: ``event``, ``data`` (decoded JSON when it is JSON), ``socket_id``,
#: ``user_id`` (presence channels, else ``None``), ``source``.
client_event = Signal(use_caching=True)
