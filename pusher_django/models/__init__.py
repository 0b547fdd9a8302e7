"""The app's models: live channels (no table), the delivery outbox and its overview (no table)."""

from __future__ import annotations

from .channel import Channel
from .delivery import Delivery
from .overview import Overview

__all__ = ["Channel", "Delivery", "Overview"]
