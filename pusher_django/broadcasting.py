"""Model broadcasting: saves and deletes become Pusher events after commit.

``@broadcasts(Model)`` on a :class:`Broadcast` subclass connects it to the
model's ``post_save``/``post_delete`` (with an explicit sender). Channels,
event name and data are computed at save time — a deleted row cannot be read
after commit — and written to the outbox table (:mod:`pusher_django.outbox`)
inside the saving transaction; Celery sends them once it commits. ``QuerySet.update()`` and
``bulk_create()`` send no model signals, so they broadcast nothing: call
:func:`~pusher_django.outbox.trigger_on_commit` after them if needed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, ClassVar, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import router
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from .conf import get_config
from .outbox import make_event, trigger_on_commit
from .outbox.writer import Coalescing, write

Action = Literal["created", "updated", "deleted"]
ACTIONS: tuple[Action, ...] = ("created", "updated", "deleted")
_suppressed: ContextVar[bool] = ContextVar("pusher_broadcasts_suppressed", default=False)


class _Encoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)  # files, geometries and other field values


class Broadcast:
    """Describes how one model broadcasts. Override any method; all have defaults."""

    on: ClassVar[tuple[str, ...]] = ACTIONS
    model: ClassVar[type[Model]]
    #: Merge repeated events of one instance that are still waiting to be sent:
    #: within one transaction, and across transactions within ``coalesce_window``.
    coalesce: ClassVar[bool] = False
    #: Seconds a coalescing event waits for later updates (``None``: the OUTBOX setting).
    coalesce_window: ClassVar[float | None] = None
    #: Send data too large for Pusher as a reference that pages and the listener resolve
    #: (docs/large-events.md), instead of refusing the save.
    by_reference: ClassVar[bool] = False

    def channels(self, instance: Model, action: Action) -> list[str]:
        """Default: ``private-<app_label>.<model_name>.<pk>`` (private: data is not public)."""
        meta = instance._meta
        return [f"private-{meta.app_label}.{meta.model_name}.{instance.pk}"]

    def event(self, instance: Model, action: Action) -> str:
        """Default: ``<model_name>.<action>``, e.g. ``message.created``."""
        return f"{instance._meta.model_name}.{action}"

    def data(self, instance: Model, action: Action) -> Any:
        """Default: the concrete fields as a JSON-safe dict (dates as ISO strings)."""
        values = {f.attname: f.value_from_object(instance) for f in instance._meta.concrete_fields}
        return json.loads(json.dumps(values, cls=_Encoder))

    def should_broadcast(self, instance: Model, action: Action) -> bool:
        return True

    def coalesce_key(self, instance: Model, action: Action) -> str | None:
        """Events with the same key (and channel) merge; default: the model and pk."""
        return f"{instance._meta.label}:{instance.pk}" if self.coalesce else None

    def handle(self, instance: Model, action: Action) -> None:
        if (
            action not in self.on
            or _suppressed.get()
            or not self.should_broadcast(instance, action)
        ):
            return
        name = self.event(instance, action)
        data = self.data(instance, action)
        events = [
            make_event(channel, name, data, by_reference=self.by_reference)
            for channel in self.channels(instance, action)
        ]
        write(
            events,
            using=router.db_for_write(type(instance), instance=instance),
            coalesce=self._coalesce(instance, action),
        )

    def _coalesce(self, instance: Model, action: Action) -> Coalescing | None:
        key = self.coalesce_key(instance, action)
        if key is None:
            return None
        window = self.coalesce_window
        if window is None:
            window = get_config().outbox.coalesce_window

        def rebuild(merged: str) -> tuple[str, Any]:
            merged_action: Action = merged  # type: ignore[assignment]
            return self.event(instance, merged_action), self.data(instance, merged_action)

        return Coalescing(key[:255], action, window, rebuild, self.by_reference)


def broadcasts(model: type[Model]) -> Any:
    """Class decorator: connect a :class:`Broadcast` subclass to ``model``'s signals."""

    def decorate(cls: type[Broadcast]) -> type[Broadcast]:
        invalid = set(cls.on) - set(ACTIONS)
        if invalid:
            raise ValueError(f"{cls.__name__}.on has unknown actions: {sorted(invalid)}")
        cls.model = model
        broadcast = cls()
        uid = f"pusher_django.broadcast.{model._meta.label}"

        def saved(
            sender: Any, instance: Model, created: bool, raw: bool = False, **kw: Any
        ) -> None:
            if not raw:  # fixtures (loaddata) send raw saves
                broadcast.handle(instance, "created" if created else "updated")

        def deleted(sender: Any, instance: Model, **kw: Any) -> None:
            broadcast.handle(instance, "deleted")

        post_save.connect(saved, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(deleted, sender=model, weak=False, dispatch_uid=uid)
        return cls

    return decorate


@contextlib.contextmanager
def suppress_broadcasts() -> Iterator[None]:
    """``with suppress_broadcasts():`` or ``@suppress_broadcasts()``: no model broadcasts.

    For bulk imports, data migrations and fixtures; explicit
    :func:`trigger_on_commit` calls still send.
    """
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


__all__ = ["Broadcast", "broadcasts", "suppress_broadcasts", "trigger_on_commit"]
