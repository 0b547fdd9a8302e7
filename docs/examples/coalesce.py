"""Coalescing repeated updates (docs/reference/broadcasting.md)."""

from pusher_django import Broadcast, broadcasts


@broadcasts(Score)
class ScoreBroadcast(Broadcast):
    coalesce = True  # merge events of one instance still waiting to be sent
    coalesce_window = 2.0  # also across transactions for 2 s (default: OUTBOX["COALESCE_WINDOW"])

    def channels(self, instance, action):
        return ["private-scores"]
