"""What the listener knows about each channel it joins.

The member map is the reason this exists: ``member_removed`` on the wire
carries only a user id, and after a reconnect only a fresh member list
arrives. Keeping the last known members per presence channel lets the
listener report the leaver's ``user_info`` and the joins and leaves that
happened while it was away.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pusher_django.channels import ChannelKind, channel_kind

__all__ = ["Subscription", "SubscriptionState", "presence_members"]

Members = dict[str, Any]


class SubscriptionState(Enum):
    PENDING = "pending"
    SUBSCRIBED = "subscribed"
    FAILED = "failed"


@dataclass
class Subscription:
    """One channel. ``members`` is only filled for presence channels."""

    name: str
    state: SubscriptionState = SubscriptionState.PENDING
    members: Members = field(default_factory=dict)
    has_members: bool = False
    kind: ChannelKind = field(init=False)
    encrypted: bool = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.kind = channel_kind(self.name)
        self.encrypted = self.kind.is_encrypted

    def snapshot(self) -> Members:
        with self._lock:
            return dict(self.members)

    def replace_members(self, fresh: Members) -> tuple[Members, Members]:
        """Install a fresh member list; return ``(added, removed)`` since the last one.

        The first list after subscribing reports no changes (there is nothing
        to compare with); later ones (after a reconnect) do.
        """
        with self._lock:
            previous, had = self.members, self.has_members
            self.members, self.has_members = dict(fresh), True
        if not had:
            return {}, {}
        added = {uid: info for uid, info in fresh.items() if uid not in previous}
        removed = {uid: info for uid, info in previous.items() if uid not in fresh}
        return added, removed

    def seed(self, members: Members) -> None:
        """Take ``members`` as the previous list, unless the server already sent one."""
        with self._lock:
            if not self.has_members:
                self.members, self.has_members = dict(members), True

    def add_member(self, user_id: str, user_info: Any) -> None:
        with self._lock:
            self.members[user_id] = user_info

    def remove_member(self, user_id: str) -> Any:
        with self._lock:
            return self.members.pop(user_id, None)


def presence_members(data: Any) -> Members:
    """``{user_id: user_info}`` from a presence ``subscription_succeeded`` payload."""
    presence = data.get("presence") if isinstance(data, dict) else None
    if not isinstance(presence, dict):
        return {}
    hash_ = presence.get("hash")
    if isinstance(hash_, dict):
        return {str(uid): info for uid, info in hash_.items()}
    ids = presence.get("ids")
    return {str(uid): None for uid in ids} if isinstance(ids, list) else {}
