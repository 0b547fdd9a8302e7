"""Issue #14 regressions and fuzzing: no input gives a 5xx, and no secret leaks.

The endpoints run behind Django's test client with the real middleware; the
fuzzers are property-based (hypothesis), bounded in examples and time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import warnings
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import CacheKeyWarning
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.views.debug import SafeExceptionReporterFilter as DjangoFilter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pusher_django.authorization import RuleRegistry
from pusher_django.client import get_client
from pusher_django.conf import find_problems
from pusher_django.exceptions import PusherConnectionError
from pusher_django.reporting import SafeExceptionReporterFilter

pytestmark = pytest.mark.django_db
SOCKET = "123.456"
SECRET = "unit-secret"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def member(db: Any) -> User:
    return User.objects.create_user("member", password="pw")


def logged_in(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def deep(levels: int = 3000) -> str:
    return "[" * levels + "]" * levels


# -- auth and sign-in endpoints ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/pusher/auth/", "/pusher/user-auth/"])
@pytest.mark.parametrize(
    "body",
    [
        '{"socket_id": ' + deep() + "}",
        '{"socket_id": "1.2", "channel_name": NaN}',
        '{"socket_id": 1e999}',
        "1" + "0" * 5000,
        '"just a string"',
        "{" * 20000,
    ],
)
def test_hostile_json_bodies_are_400(member: User, path: str, body: str) -> None:
    response = logged_in(member).post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("path", ["/pusher/auth/", "/pusher/user-auth/"])
def test_a_broken_multipart_body_is_400(member: User, path: str) -> None:
    response = logged_in(member).post(
        path, b"--x\r\nnonsense", content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 400


def test_a_user_without_an_id_is_refused_on_both_endpoints(member: User, settings: Any) -> None:
    for empty in ("tests.unit.test_hostile_input.no_id", "tests.unit.test_hostile_input.blank_id"):
        settings.PUSHER = {**settings.PUSHER, "AUTH": {"PRESENCE_USER_ID": empty}}
        client = logged_in(member)
        signin = client.post("/pusher/user-auth/", {"socket_id": SOCKET})
        presence = client.post(
            "/pusher/auth/", {"socket_id": SOCKET, "channel_name": "presence-room-1"}
        )
        assert (signin.status_code, presence.status_code) == (403, 403)
        assert "None" not in signin.content.decode()


def test_a_raising_user_id_callable_is_403_on_both_endpoints(
    member: User, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.PUSHER = {
        **settings.PUSHER,
        "AUTH": {"PRESENCE_USER_ID": "tests.unit.test_hostile_input.raising_id"},
    }
    client = logged_in(member)
    signin = client.post("/pusher/user-auth/", {"socket_id": SOCKET})
    presence = client.post(
        "/pusher/auth/", {"socket_id": SOCKET, "channel_name": "presence-room-1"}
    )
    assert (signin.status_code, presence.status_code) == (403, 403)
    assert "lookup broke" in caplog.text  # the operator sees why


def no_id(user: Any) -> None:
    return None


def blank_id(user: Any) -> str:
    return ""


def raising_id(user: Any) -> str:
    raise RuntimeError("lookup broke")


@pytest.mark.parametrize("channel", ["private-room-1", "private-encrypted-room-1"])
def test_a_misconfiguration_is_a_generic_503_described_only_in_the_log(
    member: User, settings: Any, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    broken = {**settings.PUSHER, "SECRET": None}
    if "encrypted" in channel:
        broken = {**settings.PUSHER, "ENCRYPTION_MASTER_KEY_BASE64": None}
    settings.PUSHER = broken
    client = logged_in(member)
    answers = [
        client.post("/pusher/auth/", {"socket_id": SOCKET, "channel_name": channel}),
        client.post("/pusher/user-auth/", {"socket_id": SOCKET}),
    ]
    if "encrypted" in channel:
        answers = answers[:1]  # sign-in needs no master key
    for response in answers:
        assert response.status_code == 503
        assert response.json() == {"error": "Pusher is not available."}
    assert "unavailable" in caplog.text


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda c: (
                st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=3)
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=zz",
            "text/plain",
            "application/json; charset=latin-1",
        ]
    ),
    path=st.sampled_from(["/pusher/auth/", "/pusher/user-auth/"]),
    socket_header=st.text(max_size=30),
)
def test_fuzzed_auth_bodies_and_headers_never_cause_5xx(
    member: User, body: bytes, content_type: str, path: str, socket_header: str
) -> None:
    client = logged_in(member)
    try:
        response = client.post(
            path, body, content_type=content_type, headers={"X-Socket-ID": socket_header}
        )
    except ValueError:  # the test client itself refuses header values with newlines
        return
    assert response.status_code < 500, response.content
    assert SECRET not in response.content.decode(errors="replace")


# -- webhooks ------------------------------------------------------------------------------


def signed(body: bytes, client: Client | None = None) -> Any:
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return (client or Client()).post(
        "/pusher/webhook/",
        body,
        content_type="application/json",
        headers={"X-Pusher-Key": "unit-key", "X-Pusher-Signature": signature},
    )


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.mark.parametrize(
    "body",
    [
        '{"time_ms":NOW,"events":[{"name":"subscription_count","channel":"a",'
        '"subscription_count":1e999}]}',
        '{"time_ms":1' + "0" * 400 + ',"events":[]}',
        '{"time_ms":NOW,"events":[{"name":"client_event","channel":"private-a",'
        f'"event":"client-x","data":{deep()}}}]}}',
    ],
)
def test_signed_hostile_webhooks_are_never_5xx(body: str) -> None:
    """``NOW`` is stamped when the test runs: a long session must not age the body into a 401."""
    body = body.replace('"time_ms":NOW', f'"time_ms":{now_ms()}', 1)
    assert signed(body.encode()).status_code in (200, 400)


@FUZZ
@given(
    events=st.lists(
        st.dictionaries(
            st.sampled_from(
                ["name", "channel", "user_id", "event", "data", "socket_id", "subscription_count"]
            ),
            st.one_of(
                st.sampled_from(
                    ["client_event", "member_added", "channel_occupied", "subscription_count"]
                ),
                st.text(max_size=10),
                st.integers(),
                st.floats(allow_nan=False, allow_infinity=False),
                st.none(),
                st.lists(st.integers(), max_size=2),
            ),
        ),
        max_size=5,
    ),
    time_ms=st.one_of(st.just(None), st.integers(), st.text(max_size=5)),
)
def test_fuzzed_signed_webhooks_never_cause_5xx(events: list[Any], time_ms: Any) -> None:
    body = json.dumps({"time_ms": now_ms() if time_ms is None else time_ms, "events": events})
    response = signed(body.encode())
    assert response.status_code in (200, 400, 401), response.content


@FUZZ
@given(body=st.binary(max_size=400))
def test_fuzzed_raw_webhook_bodies_never_cause_5xx(body: bytes) -> None:
    assert signed(body).status_code in (200, 400, 401)


def test_login_required_middleware_leaves_the_endpoints_to_themselves(settings: Any) -> None:
    if "LoginRequiredMiddleware" not in dir(
        __import__("django.contrib.auth.middleware").contrib.auth.middleware
    ):
        pytest.skip("LoginRequiredMiddleware arrived in Django 5.1")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    hook = signed(json.dumps({"time_ms": now_ms(), "events": []}).encode())
    assert hook.status_code == 200
    anonymous = Client().post("/pusher/auth/", {"socket_id": SOCKET, "channel_name": "private-a"})
    assert anonymous.status_code == 403
    assert anonymous.json() == {"error": "Forbidden."}
    signin = Client().post("/pusher/user-auth/", {"socket_id": SOCKET})
    assert signin.status_code == 403


# -- secrets -------------------------------------------------------------------------------


def test_pusher_url_secret_is_kept_out_of_error_reports(settings: Any) -> None:
    url = "https://the-key:s3cr3t-value@api-eu.pusher.com/apps/123"
    settings.PUSHER_URL = url
    settings.PUSHER = {}
    assert "s3cr3t-value" in str(DjangoFilter().cleanse_setting("PUSHER_URL", url))
    warning = [p for p in find_problems() if p.id == "pusher_django.W003"]
    assert len(warning) == 1
    assert "s3cr3t" not in warning[0].message + warning[0].hint
    cleansed = SafeExceptionReporterFilter().cleanse_setting("PUSHER_URL", url)
    assert cleansed == "https://***@api-eu.pusher.com/apps/123"
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = (
        "pusher_django.reporting.SafeExceptionReporterFilter"
    )
    from django.views.debug import get_default_exception_reporter_filter

    get_default_exception_reporter_filter.cache_clear()  # type: ignore[attr-defined]
    try:
        assert not [p for p in find_problems() if p.id == "pusher_django.W003"]
    finally:
        get_default_exception_reporter_filter.cache_clear()  # type: ignore[attr-defined]


def test_check_messages_never_echo_a_pasted_secret(settings: Any) -> None:
    settings.PUSHER = {**settings.PUSHER, "HOST": "https://the-key:s3cr3t@api.example.com/x"}
    with pytest.raises(SystemCheckError) as failure:
        call_command("check")
    assert "E015" in str(failure.value)
    assert "s3cr3t" not in str(failure.value)


def test_logged_rest_failures_never_carry_the_signed_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("pusher_django.tests")
    try:
        get_client().trigger("private-a", "e", {})  # PORT 9: connection refused
    except PusherConnectionError:
        logger.exception("trigger failed")
    assert "trigger failed" in caplog.text
    assert "Connection" in caplog.text  # the cause is still there
    assert "auth_signature" not in caplog.text
    assert "auth_key" not in caplog.text


# -- rules ---------------------------------------------------------------------------------


def test_a_placeholder_cannot_swallow_a_separator() -> None:
    registry = RuleRegistry()
    registry.register("private-room-{room}", lambda user, room: "room")
    registry.register("private-room-{room}-staff", lambda user, room: "staff")
    registry.register("private-dm-{a}-{b}", lambda user, a, b: "dm")
    found = registry.find("private-room-lobby-staff")
    assert found is not None
    assert (found[0].pattern, found[1]) == ("private-room-{room}-staff", {"room": "lobby"})
    assert registry.find("private-dm-alice-bob-carol") is None
    dm = registry.find("private-dm-alice-bob")
    assert dm is not None
    assert dm[1] == {"a": "alice", "b": "bob"}
    assert registry.find("private-room-a.b") is None


def test_converters_and_most_specific_first() -> None:
    registry = RuleRegistry()
    registry.register("private-{rest:any}", lambda user, rest: "any")
    registry.register("private-doc-{slug:slug}", lambda user, slug: "slug")
    registry.register("private-doc-{id:int}", lambda user, id: "int")
    found = registry.find("private-doc-42")
    assert found is not None
    assert (found[0].pattern, found[1]) == ("private-doc-{id:int}", {"id": 42})
    found = registry.find("private-doc-my-notes")
    assert found is not None
    assert found[1] == {"slug": "my-notes"}
    found = registry.find("private-other.thing-1")
    assert found is not None
    assert found[1] == {"rest": "other.thing-1"}
    with pytest.raises(Exception, match="Unknown converter"):
        registry.register("private-{x:path}", lambda user, x: True)


# -- admin ---------------------------------------------------------------------------------


@pytest.fixture
def operator(db: Any, settings: Any) -> Client:
    settings.PUSHER = {**settings.PUSHER, "ADMIN": {"CACHE_SECONDS": 0}}
    user = User.objects.create_superuser("op", "op@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


class FakeClient:
    """A REST client whose answers are chosen per test: odd shapes a real server may send."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.config = get_client().config

    def get_channels(self, filter_by_prefix: Any = None, info: Any = None) -> Any:
        return self.answers["channels"]

    def get_channel(self, name: str, info: Any = None) -> Any:
        return self.answers.get("channel", {"occupied": True, "user_count": 1})

    def get_users(self, name: str) -> Any:
        return self.answers["users"]


@pytest.mark.parametrize(
    "answers",
    [
        {"channels": {}},
        {"channels": {"channels": ["a", "b"]}},
        {"channels": ["x"]},
        {"channels": {"channels": {"presence-x": None, "y": [1]}}},
    ],
)
def test_odd_channel_lists_are_a_message_not_a_500(
    operator: Client, monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any]
) -> None:
    """Mocked REST answers: a real server (soketi) cannot be made to answer these shapes."""
    monkeypatch.setattr("pusher_django.admin.channels.get_client", lambda: FakeClient(**answers))
    response = operator.get("/admin/pusher_django/channel/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "users",
    [{}, {"users": "nope"}, {"users": [{"id": "a/b"}, {"id": "ok"}, "junk", {"id": "x y?"}]}],
)
def test_odd_presence_users_and_ids_with_any_character(
    operator: Client, monkeypatch: pytest.MonkeyPatch, users: dict[str, Any]
) -> None:
    """Mocked REST answers (see above); ids like ``a/b`` come from presence auth by any user."""
    monkeypatch.setattr(
        "pusher_django.admin.channels.get_client", lambda: FakeClient(channels={}, users=users)
    )
    response = operator.get("/admin/pusher_django/channel/live/presence-room-1/")
    assert response.status_code == 200
    if users.get("users") and isinstance(users["users"], list):
        page = response.content.decode()
        assert "a/b" in page
        assert "/terminate/ok/" in page
        assert "/terminate/a/b/" not in page  # not a sign-in id: nothing to terminate
        confirm = operator.get("/admin/pusher_django/channel/live/presence-room-1/terminate/a/b/")
        assert confirm.status_code == 302  # refused with a message, not a 500


def test_presence_users_link_to_their_django_user(
    operator: Client, monkeypatch: pytest.MonkeyPatch, member: User
) -> None:
    member.first_name, member.last_name = "Ada", "Lovelace"
    member.save()
    users = {"users": [{"id": str(member.pk)}, {"id": "guest-7"}]}
    monkeypatch.setattr(
        "pusher_django.admin.channels.get_client", lambda: FakeClient(channels={}, users=users)
    )
    page = operator.get("/admin/pusher_django/channel/live/presence-room-1/").content.decode()
    assert f'href="/admin/auth/user/{member.pk}/change/">Ada Lovelace</a>' in page


def test_server_to_user_channels_are_labelled_as_such(
    operator: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: dict[str, Any] = {"channels": {"channels": {"#server-to-user-7": {}, "news": {}}}}
    monkeypatch.setattr("pusher_django.admin.channels.get_client", lambda: FakeClient(**answers))
    page = operator.get("/admin/pusher_django/channel/").content.decode()
    assert '<td class="field-kind">server-to-user</td>' in page
    assert '<td class="field-kind">public</td>' in page


def test_filter_text_never_becomes_a_raw_cache_key(
    operator: Client, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.PUSHER = {**settings.PUSHER, "ADMIN": {"CACHE_SECONDS": 5}}
    monkeypatch.setattr(
        "pusher_django.admin.channels.get_client", lambda: FakeClient(channels={"channels": {}})
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)  # what memcached would refuse
        response = operator.get("/admin/pusher_django/channel/", {"starts_with": "a b\x01" * 60})
    assert response.status_code == 200
