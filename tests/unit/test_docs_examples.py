"""The documentation's Python examples run, and the pages show no Python that is not one.

Every ``python`` block in ``docs/`` must be included from ``docs/examples/`` (pymdownx
snippets), so these tests run what a reader copies. Examples that name the reader's
own models (``Room``, ``Document``, ``Presence``) get small stand-ins: a documentation
example cannot import a model that only exists in the reader's project.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser
from django.core import checks
from django.db.models.signals import post_delete, post_save
from django.test import RequestFactory, override_settings

from pusher_django import authorization, notices
from pusher_django.authorization import ChannelPolicy, RuleRegistry
from pusher_django.conf import get_config, reset_config
from pusher_django.testing import capture_broadcasts
from tests.testapp.models import Message, Room, Score

from .test_client import RecordingTransport as _RecordingTransport

DOCS = Path(__file__).parents[2] / "docs"
EXAMPLES = DOCS / "examples"
SNIPPET = re.compile(r'^\s*--8<-- "([^"]+)"\s*$')


def run(name: str, **names: Any) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name), init_globals=names)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of each fenced block of a Markdown page."""
    blocks: list[tuple[str, str]] = []
    language: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if language is None and stripped.startswith("```"):
            language, body = stripped[3:].strip(), []
        elif language is not None and stripped == "```":
            blocks.append((language, "\n".join(body)))
            language = None
        elif language is not None:
            body.append(line)
    assert language is None, "a fence is not closed"
    return blocks


def python_blocks() -> list[tuple[str, str]]:
    return [
        (str(page.relative_to(DOCS)), body)
        for page in sorted(DOCS.rglob("*.md"))
        for language, body in fenced_blocks(page.read_text())
        if language.split(" ")[0] in {"python", "py", "python3"}
    ]


def test_every_python_block_is_an_included_example():
    blocks = python_blocks()
    assert len(blocks) >= 15
    for page, body in blocks:
        lines = [line for line in body.splitlines() if line.strip()]
        assert lines, page
        for line in lines:
            found = SNIPPET.match(line)
            assert found, f"{page}: inline Python in the docs: {line!r}"
            assert (EXAMPLES / found.group(1).split(":")[0]).is_file(), (page, line)


def test_every_example_is_used_by_a_page():
    pages = "\n".join(page.read_text() for page in DOCS.rglob("*.md"))
    for example in EXAMPLES.rglob("*.py"):
        relative = str(example.relative_to(EXAMPLES))
        if relative.startswith("tutorial/"):
            continue  # the tutorial test runs those
        assert f'"{relative}' in pages, f"{relative} is in no page"


def _problems(pusher: dict[str, Any]) -> list[checks.CheckMessage]:
    with override_settings(PUSHER=pusher):
        reset_config()
        try:
            return [m for m in checks.run_checks() if m.id and m.id.startswith("pusher_django")]
        finally:
            reset_config()


def test_the_full_settings_example_is_valid_and_says_the_defaults():
    pusher = run("settings_full.py")["PUSHER"]
    assert _problems(pusher) == []
    with override_settings(PUSHER=pusher):
        reset_config()
        config = get_config()
    reset_config()
    defaults = get_config()
    for section in ("listener", "outbox", "celery", "users", "webhooks", "admin", "auth"):
        assert getattr(config, section) == getattr(defaults, section), section


def test_the_quickstart_settings_are_valid():
    for vendor in ("postgresql", "sqlite3", "mysql"):
        databases = {"default": {"ENGINE": f"django.db.backends.{vendor}"}}
        default = run("quickstart_settings.py", DATABASES=databases)["DATABASES"]["default"]
        assert default["ENGINE"] == f"pusher_django.db.{vendor}"
    oracle = {"default": {"ENGINE": "django.db.backends.oracle"}}
    kept = run("quickstart_settings.py", DATABASES=oracle)["DATABASES"]["default"]["ENGINE"]
    assert kept == "django.db.backends.oracle"  # no backend of ours: left for W005 to name
    settings = run("quickstart_settings.py", DATABASES={"default": {"ENGINE": "x"}})
    assert "pusher_django" in settings["INSTALLED_APPS"]
    assert "pusher_django.middleware.SocketIdMiddleware" in settings["MIDDLEWARE"]
    assert _problems(settings["PUSHER"]) == []


def test_reading_the_configuration(settings):
    settings.PUSHER = {
        **settings.PUSHER,
        "LISTENER": {"CHANNELS": ["presence-lobby", "presence-lobby"], "PONG_TIMEOUT": 30},
    }
    run("config_access.py")  # its asserts are the documented values


def test_the_beat_and_reporting_settings_name_real_things():
    from celery import current_app

    import pusher_django.tasks  # noqa: F401 - registers the tasks
    from pusher_django.reporting import SafeExceptionReporterFilter

    schedule = run("beat.py")["CELERY_BEAT_SCHEDULE"]
    assert schedule["pusher-outbox"]["task"] in current_app.tasks
    path = run("reporting_example.py")["DEFAULT_EXCEPTION_REPORTER_FILTER"]
    assert path.endswith(SafeExceptionReporterFilter.__name__)


def test_urls_example_mounts_the_endpoints():
    from django.urls import URLResolver

    (resolver,) = run("urls_example.py")["urlpatterns"]
    assert isinstance(resolver, URLResolver)
    names = {getattr(pattern, "name", None) for pattern in resolver.url_patterns}
    assert {"pusher-auth", "pusher-user-auth", "pusher-webhook"} <= names


class _Rows:
    """``Room.objects.filter(...)`` stand-in: the reader's rooms are 1 and 2."""

    def __init__(self, pks: set[int]) -> None:
        self.pks = pks

    def filter(self, pk: Any = None, **kwargs: Any) -> _Rows:
        return _Rows(self.pks if pk is None else self.pks & {int(pk)})

    def exists(self) -> bool:
        return bool(self.pks)

    def values_list(self, *fields: str, flat: bool = False) -> list[int]:
        return sorted(self.pks)


@pytest.mark.django_db
def test_rule_examples_decide_as_documented(monkeypatch, django_user_model):
    monkeypatch.setattr(authorization, "registry", RuleRegistry())
    model = SimpleNamespace(objects=_Rows({1, 2}))
    run("rules.py", Room=model, Document=model)
    user = django_user_model.objects.create_user("ann")
    request = RequestFactory().post("/pusher/auth/")
    request.user = user
    request.session = {"beta": True}  # type: ignore[assignment]
    policy = ChannelPolicy()
    assert policy.authorize(request, "private-encrypted-room-1") is True
    assert policy.authorize(request, "private-encrypted-room-9") is False
    assert policy.authorize(request, "presence-room-2") == {"name": "ann"}
    assert policy.authorize(request, "private-beta-search") is True
    assert policy.authorize(request, "private-doc-1") is True
    assert policy.authorize(request, "private-doc-x") is False  # no rule matches
    assert policy.authorize_many(request, ["presence-team-1", "presence-team-7"]) == [
        {"name": "ann"},
        False,
    ]
    request.user = AnonymousUser()
    assert policy.authorize(request, "private-lobby") is True
    assert policy.authorize(request, "private-encrypted-room-1") is False


@pytest.fixture
def room(db):
    return Room.objects.create(name="docs")


def test_the_testing_example_passes(room):
    test = run("testing_example.py")["test_posting_broadcasts"]
    test(None, room)


@pytest.fixture
def replace_broadcast():
    """Lets an example re-declare a test-app broadcast, then puts the test app's back."""
    saved = {signal: list(signal.receivers) for signal in (post_save, post_delete)}

    def replace(model: type[Any]) -> None:
        uid = f"pusher_django.broadcast.{model._meta.label}"
        post_save.disconnect(sender=model, dispatch_uid=uid)
        post_delete.disconnect(sender=model, dispatch_uid=uid)

    yield replace
    for signal, receivers in saved.items():
        signal.receivers = receivers
        signal.sender_receivers_cache.clear()


def test_the_broadcast_example_sends_what_it_says(room, replace_broadcast):
    replace_broadcast(Message)
    run("broadcast.py", Message=Message)
    with capture_broadcasts() as sent:
        message = Message.objects.create(room=room, text="hi")
        Message.objects.create(room=room, text="(hidden) draft")
        message.delete()
    channel = f"private-encrypted-room-{room.pk}"
    assert [(e["name"], e["channel"]) for e in sent.events] == [
        ("message.created", channel),
        ("message.deleted", channel),
    ]
    sent.assert_broadcast("message.created", data={"text": "hi"})


def test_the_large_events_example_sends_big_data_by_reference(room, replace_broadcast, settings):
    settings.PUSHER = {**settings.PUSHER, "MAX_PAYLOAD_BYTES": 400}
    replace_broadcast(Message)
    names = run("large_events.py", Message=Message)
    with capture_broadcasts() as sent:
        Message.objects.create(room=room, text="short")
        Message.objects.create(room=room, text="y" * 450)
        names["publish_report"](7, [{"n": n} for n in range(100)])
    assert [(e["name"], e.get("by_reference", False)) for e in sent.events] == [
        ("message.created", False),
        ("message.created", True),
        ("report.ready", True),
    ]
    assert sent.events[1]["data"]["text"] == "y" * 450
    assert len(sent.events[2]["data"]["rows"]) == 100


def test_the_database_backend_examples_name_backends_that_flush_the_outbox():
    from django.db.backends.postgresql.base import DatabaseWrapper as Postgres
    from django.db.utils import load_backend

    from pusher_django.db import OutboxFlushMixin

    databases = run("database_backend.py")["DATABASES"]
    assert databases["default"]["ENGINE"] == "pusher_django.db.postgresql"
    assert databases["default"]["NAME"] == "app"
    assert databases["default"]["HOST"] == "127.0.0.1"
    mysql = importlib.util.find_spec("MySQLdb") is not None  # only where mysqlclient is installed
    for vendor in ("postgresql", "sqlite3", "mysql")[: 3 if mysql else 2]:
        wrapper = load_backend(f"pusher_django.db.{vendor}").DatabaseWrapper
        assert issubclass(wrapper, OutboxFlushMixin)
        assert wrapper.__mro__[2] is load_backend(f"django.db.backends.{vendor}").DatabaseWrapper
    composed = run("database_mixin.py")["DatabaseWrapper"]
    assert composed.__mro__[1:3] == (OutboxFlushMixin, Postgres)


def test_the_coalescing_example_merges_updates(db, replace_broadcast):
    replace_broadcast(Score)
    run("coalesce.py", Score=Score)
    with capture_broadcasts() as sent:
        score = Score.objects.create(player="ann")
        score.points = 3
        score.save()
    assert [(e["name"], e["channel"]) for e in sent.events] == [("score.created", "private-scores")]
    assert sent.events[0]["data"]["points"] == 3


def test_suppressing_and_triggering_on_commit(room):
    with capture_broadcasts() as sent:
        run("suppress.py", Message=Message, room=room, rows=["a", "b"])
    assert [e["name"] for e in sent.events] == ["messages.read"]
    assert Message.objects.filter(room=room, text="read").count() == 2


def test_the_receiver_example_records_a_member(monkeypatch):
    from pusher_django.signals import member_added
    from pusher_django.webhooks import Webhook

    recorded: list[dict[str, Any]] = []
    presence = SimpleNamespace(
        objects=SimpleNamespace(update_or_create=lambda **kw: recorded.append(kw))
    )
    receiver = run("receivers.py", Presence=presence)["joined"]
    try:
        member_added.send(
            sender=Webhook, channel="presence-room-1", user_id="7", user_info=None, source="webhook"
        )
    finally:
        member_added.disconnect(receiver)
    assert recorded == [{"channel": "presence-room-1", "user_id": "7"}]


class _RecordingAsyncTransport(_RecordingTransport):
    """The twins' transport, offline: records what would be sent, and whether it was closed."""

    closed = False

    async def send(self, method: str, path: str, query: dict[str, str], body: Any = None) -> Any:
        return super().send(method, path, query, body)

    async def aclose(self) -> None:
        self.closed = True

    def forget(self) -> None:
        """What a settings change does to the pools (nothing to forget here)."""


@pytest.fixture
def recorded(monkeypatch) -> _RecordingAsyncTransport:
    """``get_client()`` for the examples: a client whose coroutine twins send nothing."""
    from pusher_django import client

    transport = _RecordingAsyncTransport()
    pusher = client.PusherClient(get_config(), _RecordingTransport(), transport)  # type: ignore[arg-type]
    monkeypatch.setattr(client, "get_client", functools.lru_cache(lambda: pusher))
    return transport


def _triggered(transport: _RecordingTransport) -> list[tuple[list[str], str, Any]]:
    return [
        (body["channels"], body["name"], json.loads(body["data"]))
        for _method, _path, _query, body in transport.sent
    ]


def test_the_coroutine_twin_examples(recorded):
    names = run("async_client.py")  # its asyncio.run(main()) notifies three users, then closes
    assert sorted(_triggered(recorded)) == [
        ([f"private-user-{pk}"], "notice", {"text": "maintenance at noon"}) for pk in (1, 2, 3)
    ]
    assert recorded.closed
    request = RequestFactory().post("/ping/", {"channel": "lobby"})
    response = async_to_sync(names["atrigger_ping"])(request)
    assert response.status_code == 200
    assert _triggered(recorded)[-1] == (["lobby"], "ping", {"n": 1})


def _outbox() -> list[tuple[str, str]]:
    from pusher_django.models import Delivery

    return list(Delivery.objects.order_by("id").values_list("channel", "name"))


@pytest.mark.django_db(transaction=True)
def test_the_async_outbox_examples(handoffs):
    room = Room.objects.create(name="async")
    announce = run("async_announce.py")["announce"]
    async_to_sync(announce)(SimpleNamespace(pk=7))
    assert _outbox() == [("private-lobby", "announced")]

    view = run("async_view.py", Message=Message)["asave_message"]
    request = RequestFactory().post("/save/", {"room": room.pk, "text": "hi", "announce": "1"})
    response = async_to_sync(view)(request)
    message = Message.objects.get(pk=json.loads(response.content)["id"])
    assert message.text == "hi"
    channel = f"private-encrypted-room-{room.pk}"
    assert _outbox()[1:] == [(channel, "message.created"), ("private-lobby", "announced")]


@pytest.mark.django_db(transaction=True)
def test_the_atomic_async_example_keeps_both_or_neither(handoffs, monkeypatch):
    from pusher_django import outbox

    room = Room.objects.create(name="atomic")
    async_to_sync(run("async_atomic.py", Message=Message, room=room)["post"])()
    channel = f"private-encrypted-room-{room.pk}"
    assert _outbox() == [(channel, "message.created"), ("private-lobby", "announced")]

    def refused(*args: Any, **kwargs: Any) -> None:
        raise ValueError("refused")

    monkeypatch.setattr(outbox, "trigger_on_commit", refused)
    post = run("async_atomic.py", Message=Message, room=room)["post"]
    with pytest.raises(ValueError, match="refused"):
        async_to_sync(post)()
    assert Message.objects.filter(room=room).count() == 1  # the second message rolled back
    assert len(_outbox()) == 2


@pytest.mark.skipif(not notices.ASYNC_RECEIVERS, reason="async receivers need Django 5.0+")
def test_the_async_receiver_example_triggers(recorded):
    from pusher_django.signals import member_added
    from pusher_django.webhooks import Webhook

    greet = run("async_receiver.py")["greet"]
    try:
        member_added.send(
            sender=Webhook, channel="presence-room-1", user_id="7", user_info=None, source="webhook"
        )
    finally:
        member_added.disconnect(greet)
    assert _triggered(recorded) == [(["presence-room-1"], "welcome", {"user_id": "7"})]


def test_the_asgi_example_builds_the_application():
    from django.core.handlers.asgi import ASGIHandler

    before = os.environ["DJANGO_SETTINGS_MODULE"]
    assert isinstance(run("asgi_example.py")["application"], ASGIHandler)
    assert os.environ["DJANGO_SETTINGS_MODULE"] == before  # setdefault kept the real settings


def test_the_outbox_tasks_take_the_options_the_brokers_page_names():
    from pusher_django.tasks import deliver_outbox, relay_outbox

    options = run("outbox_task_options.py")["OUTBOX_TASK_OPTIONS"]
    for task in (deliver_outbox, relay_outbox):
        for option, value in options.items():
            assert getattr(task, option) is value, (task.name, option)


def _config_with(settings: Any, name: str) -> tuple[dict[str, Any], Any]:
    """``PUSHER`` of the test settings with the example's sections, and its configuration."""
    pusher = {**settings.PUSHER, **run(name)["PUSHER"]}
    with override_settings(PUSHER=pusher):
        reset_config()
        try:
            return pusher, get_config()
        finally:
            reset_config()


def test_the_health_settings_example(settings):
    pusher, config = _config_with(settings, "health_settings.py")
    assert _problems(pusher) == []
    assert (config.health.cache, config.health.heartbeat) == ("default", 5.0)
    assert pusher["HEALTH"]["CACHE"] in settings.CACHES


def test_the_max_age_example_and_the_check_that_refuses_zero(settings):
    pusher, config = _config_with(settings, "outbox_max_age.py")
    assert _problems(pusher) == []
    assert config.outbox.max_age == get_config().outbox.max_age == 86400.0  # the default
    for bad in (0, -1):
        refused = {**pusher, "OUTBOX": {"MAX_AGE": bad}}
        assert [m.id for m in _problems(refused)] == ["pusher_django.E017"], bad


@pytest.mark.django_db
def test_the_metrics_urls_example_serves_prometheus():
    (pattern,) = run("metrics_urls.py")["urlpatterns"]
    match = pattern.resolve("metrics/")
    assert match is not None
    response = match.func(RequestFactory().get("/metrics/"))
    assert response.status_code == 200
    assert b"pusher_django_outbox_backlog" in response.content


def test_the_gunicorn_hook_removes_a_dead_workers_live_gauges(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "gauge_livesum_4343.db", "counter_4242.db"):
        (tmp_path / name).touch()
    run("gunicorn_conf.py")["child_exit"](None, SimpleNamespace(pid=4242))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_4242.db",
        "gauge_livesum_4343.db",
    ]


def _deliveries(channel: str, *seconds: float, status: str = "sent") -> list[int]:
    from django.utils import timezone

    from pusher_django.models import Delivery

    start = timezone.now()
    rows = Delivery.objects.bulk_create(
        Delivery(
            channel=channel,
            name="e",
            data="{}",
            data_is_object=True,
            status=status,
            sent_at=start + timedelta(seconds=s) if status == "sent" else None,
        )
        for s in seconds
    )
    return [row.pk for row in rows]


@pytest.mark.django_db
def test_the_history_query_pages_in_sending_order():
    from pusher_django import history

    a, b, c, d, e = _deliveries("history", 0, 0, 1, 2, 3)  # a and b went out together
    _deliveries("other", 0, 4)
    _deliveries("history", 5, status="pending")
    names = run("history_query.py", channel="history", after=a, limit=2)
    assert names["last_id"] == e
    assert [row.pk for row in names["page"]] == [b, c, d]  # limit + 1: there is more
    assert [event["id"] for event in history.catch_up("history", a, limit=4).events] == [b, c, d, e]


@pytest.mark.django_db
def test_the_delivery_filters_find_what_their_comments_say():
    first, second = _deliveries("f", 0, 0, status="pending")
    (failed,) = _deliveries("f", 0, status="failed")
    (sent,) = _deliveries("f", 0)
    names = run("delivery_filters.py")
    found = {
        name: {row.pk for row in names[name]} for name in ("open_rows", "pending", "failed", "sent")
    }
    assert found == {
        "open_rows": {first, second, failed},
        "pending": {first, second},
        "failed": {failed},
        "sent": {sent},
    }
    assert [row.pk for row in names["oldest_first"]] == [first, second]


@pytest.mark.django_db
def test_the_verdict_examples_decide_as_the_security_page_says(monkeypatch, caplog):
    from django.contrib.auth.models import Group, User

    monkeypatch.setattr(authorization, "registry", RuleRegistry())
    run("verdicts.py")
    boss = User.objects.create_superuser("boss")
    ann = User.objects.create_user("ann")
    ann.groups.add(Group.objects.create(name="red"))

    def decide(user: Any, channel: str) -> tuple[bool, Any]:
        request = RequestFactory().post("/pusher/auth/")
        request.user = user
        (decision,) = authorization.decide(request, [channel])  # what pusher/auth/ answers
        return decision.allowed, decision.user_info

    assert decide(boss, "private-report-3") == (True, None)
    assert decide(ann, "private-report-3") == (False, None)
    assert decide(ann, "presence-team-red") == (True, {"name": "ann"})
    assert decide(ann, "presence-team-blue") == (False, None)
    with caplog.at_level("WARNING", logger="pusher_django"):
        assert decide(ann, "private-flag-beta") == (False, None)
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "private-flag-beta" in warning.getMessage()
    assert "str" in warning.getMessage()


def test_the_architecture_page_names_every_module():
    page = (DOCS / "explanation" / "architecture.md").read_text()
    package = DOCS.parent / "pusher_django"
    for source in sorted(package.rglob("*.py")):
        relative = source.relative_to(package.parent).with_suffix("")
        if "migrations" in relative.parts:
            continue
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        assert f"`{'.'.join(parts)}`" in page, f"docs/explanation/architecture.md: add {parts}"
