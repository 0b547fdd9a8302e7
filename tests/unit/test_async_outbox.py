"""Broadcasting from coroutines: ``atrigger_on_commit``, ``asave()`` and ``adelete()``.

Each test drives real coroutines with ``async_to_sync`` (as an ASGI server
would) on a database in autocommit (``transaction=True``), because what is
atomic with what is the point: the guarantees asserted here are the ones
``docs/async.md`` states.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.exceptions import SynchronousOnlyOperation
from django.db import connection, transaction
from django.db.models.signals import pre_delete, pre_save

from pusher_django import tasks
from pusher_django.exceptions import PusherValidationError
from pusher_django.models import Delivery
from pusher_django.outbox import atrigger_on_commit, trigger_on_commit
from pusher_django.sender_exclusion import excluding_socket
from tests.testapp.models import Message, Room
from tests.unit.helpers import celery_hand_off

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def room() -> Room:
    return Room.objects.create(name="r")


@pytest.fixture
def no_master_key(settings: Any) -> None:
    """Messages broadcast on an encrypted channel: without a key every broadcast fails."""
    settings.PUSHER = {k: v for k, v in settings.PUSHER.items() if "ENCRYPTION" not in k}


def names() -> list[str]:
    return list(Delivery.objects.order_by("id").values_list("name", flat=True))


def test_trigger_on_commit_from_a_coroutine_raises_and_the_twin_works(handoffs):
    async def publish() -> None:
        with pytest.raises(SynchronousOnlyOperation):
            trigger_on_commit("private-a", "sync", {})
        with excluding_socket("1.2"):
            await atrigger_on_commit(["private-a", "private-b"], "async", {"n": 1})

    async_to_sync(publish)()
    rows = list(Delivery.objects.order_by("id").values_list("channel", "name", "socket_id"))
    assert rows == [("private-a", "async", "1.2"), ("private-b", "async", "1.2")]
    assert [name for name, *_ in handoffs] == ["pusher_django.deliver_outbox"]


@pytest.fixture
def queries() -> Iterator[Callable[[], list[tuple[int, int, str]]]]:
    """(thread, connection, SQL) of every query run while saving or deleting a Message."""
    seen: list[tuple[int, int, str]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((threading.get_ident(), id(context["connection"]), sql))
        return execute(sql, params, many, context)

    def install(sender: Any, **kwargs: Any) -> None:
        if record not in connection.execute_wrappers:
            connection.execute_wrappers.append(record)

    pre_save.connect(install, sender=Message, weak=False)
    pre_delete.connect(install, sender=Message, weak=False)
    yield lambda: seen
    pre_save.disconnect(install, sender=Message)
    pre_delete.disconnect(install, sender=Message)


def writers(seen: list[tuple[int, int, str]], table: str) -> set[tuple[int, int]]:
    return {(thread, conn) for thread, conn, sql in seen if table in sql and "INSERT" in sql}


def test_asave_writes_the_outbox_row_on_the_models_thread_and_connection(room, handoffs, queries):
    async def save() -> int:
        message = Message(room=room, text="hi")
        await message.asave()
        message.text = "edited"
        await message.asave()
        return message.pk

    pk = async_to_sync(save)()
    seen = queries()
    model, outbox = writers(seen, "testapp_message"), writers(seen, "pusher_django_delivery")
    assert len(model) == 1
    assert outbox == model
    assert names() == ["message.created", "message.updated"]
    assert Delivery.objects.filter(data__contains=f'"id":{pk}').count() == 2
    assert len(handoffs) == 2  # autocommit: each save is its own transaction


def test_adelete_broadcasts_in_the_deletes_transaction(room, handoffs, queries):
    message = Message.objects.create(room=room, text="bye")
    Delivery.objects.all().delete()

    async def delete() -> None:
        await message.adelete()

    async_to_sync(delete)()
    assert names() == ["message.deleted"]
    deleted = {(t, c) for t, c, sql in queries() if "DELETE" in sql and "testapp_message" in sql}
    assert deleted == writers(queries(), "pusher_django_delivery")


def test_asave_commits_the_model_even_when_its_broadcast_fails(room, no_master_key):
    """The documented limit: ``asave()`` runs in autocommit, the broadcast after the save."""

    async def save() -> None:
        await Message(room=room, text="kept").asave()

    with pytest.raises(PusherValidationError):
        async_to_sync(save)()
    assert list(Message.objects.values_list("text", flat=True)) == ["kept"]
    assert names() == []


def test_adelete_is_atomic_with_its_broadcast(room, no_master_key, settings):
    with pytest.raises(PusherValidationError):
        Message.objects.create(room=room, text="stays")  # the broadcast refuses...
    message = Message.objects.get()  # ...after the autocommit save, as above

    async def delete() -> None:
        await message.adelete()

    with pytest.raises(PusherValidationError):
        async_to_sync(delete)()
    assert Message.objects.filter(pk=message.pk).exists()  # the delete rolled back


def test_atomic_block_in_sync_to_async_keeps_model_and_events_together(room, handoffs):
    @sync_to_async
    def save_and_announce(text: str, fail: bool) -> None:
        with transaction.atomic():
            Message.objects.create(room=room, text=text)
            trigger_on_commit("private-lobby", "announced", {"text": text})
            if fail:
                raise RuntimeError("rolled back")

    async def view() -> None:
        await save_and_announce("committed", fail=False)
        with pytest.raises(RuntimeError):
            await save_and_announce("rolled back", fail=True)

    async_to_sync(view)()
    assert list(Message.objects.values_list("text", flat=True)) == ["committed"]
    assert names() == ["message.created", "announced"]
    assert len(handoffs) == 1


def test_a_failing_hand_off_in_autocommit_is_logged_and_the_save_stands(
    room, monkeypatch, caplog, settings
):
    """Django logs a robust on_commit callback by its ``__qualname__`` (a partial has none)."""
    celery_hand_off(settings)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("broker exploded")

    monkeypatch.setattr(tasks, "enqueue_or_run", broken)

    async def save() -> None:
        await Message(room=room, text="kept").asave()

    async_to_sync(save)()
    assert Message.objects.filter(text="kept").exists()
    assert names() == ["message.created"]  # committed; the relay delivers it
    assert "broker exploded" in caplog.text
