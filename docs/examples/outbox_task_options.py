"""The options both outbox tasks are declared with (docs/brokers.md)."""

OUTBOX_TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
