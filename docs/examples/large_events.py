"""Large events sent by reference (docs/large-events.md); ``Message`` is the test app's model."""

from pusher_django import Broadcast, broadcasts
from pusher_django.outbox import trigger_on_commit


@broadcasts(Message)
class MessageBroadcast(Broadcast):
    by_reference = True  # over MAX_PAYLOAD_BYTES: sent as {"_pusher_id": 42, "_pusher_ref": 42}

    def channels(self, instance, action):
        return [f"private-encrypted-room-{instance.room_id}"]

    def data(self, instance, action):
        return {"id": instance.pk, "text": instance.text}  # may be far over 10 KB


def publish_report(report_id, rows):
    trigger_on_commit(
        f"private-report-{report_id}", "report.ready", {"rows": rows}, by_reference=True
    )
