"""The app's models: live channels (no table) and the delivery outbox."""

from __future__ import annotations

from .channel import Channel
from .delivery import Delivery

__all__ = ["Channel", "Delivery"]
