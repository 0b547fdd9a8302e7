"""Issue #24 regressions on the auth, sign-in and middleware paths, with hypothesis fuzzing.

Exact channel names, ASCII digits, strict socket ids, strict rule verdicts,
no 500 from user data, and secrets kept out of debug pages and logs. The
database tests run on whichever database ``DATABASE_URL`` names (SQLite,
PostgreSQL, MariaDB).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils.module_loading import import_string
from django.views import debug
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pusher_django import authorization, signing
from pusher_django.authorization import Decision, RuleRegistry, decide
from pusher_django.channels import ChannelKind, channel_kind
from pusher_django.client import PusherClient
from pusher_django.conf import find_problems, get_config
from pusher_django.exceptions import ProtocolError, PusherValidationError
from pusher_django.listener import protocol
from pusher_django.middleware import SocketIdMiddleware
from pusher_django.models import Delivery
from pusher_django.outbox.events import make_event
from pusher_django.reporting import URLLIB3_LOGGER, SafeExceptionReporterFilter
from pusher_django.transport import parse_retry_after
from pusher_django.validation import is_socket_id, parse_whole_number, validate_socket_id
from tests.support.empty_api import empty_api
from tests.testapp.models import Message, Room

pytestmark = pytest.mark.django_db
SOCKET = "123.456"
AUTH, BATCH, USER_AUTH = "/pusher/auth/", "/pusher/auth/batch/", "/pusher/user-auth/"
SECRET = "unit-secret"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
#: Digits that are not ASCII: ``int()`` reads the first two, refuses the last two.
ODD_DIGITS = ["١٢", "۳", "²", "①"]


@pytest.fixture
def member(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("member", password="pw"))
    return client


def token(channel: str, socket_id: str = SOCKET, channel_data: str | None = None) -> str:
    config = get_config()
    return signing.channel_auth_token(config.key, config.secret, socket_id, channel, channel_data)


def auth(client: Client, channel: str, socket_id: str = SOCKET) -> Any:
    return client.post(AUTH, {"socket_id": socket_id, "channel_name": channel})


# -- class 1: exact channel names -------------------------------------------------------


def case_variants(prefix: str) -> st.SearchStrategy[str]:
    """The prefix with some letters in the other case (never the prefix itself)."""
    flips = st.lists(st.booleans(), min_size=len(prefix), max_size=len(prefix))
    return flips.map(
        lambda flip: "".join(c.swapcase() if f else c for c, f in zip(prefix, flip, strict=True))
    ).filter(lambda variant: variant != prefix)


AUTH_PREFIXES = [kind.value for kind in ChannelKind if kind.needs_auth]


@FUZZ
@given(data=st.data())
def test_a_prefix_in_another_case_decides_nothing(member: Client, data: Any) -> None:
    """The kind comes from the exact string: ``Private-…`` is public, ``private-Encrypted-…``
    is private (not encrypted), and what is signed is for that exact name."""
    prefix = data.draw(st.sampled_from(AUTH_PREFIXES))
    channel = data.draw(case_variants(prefix)) + "room-1"
    kind = channel_kind(channel)
    assert kind is not channel_kind(prefix + "room-1")
    response = auth(member, channel)
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    if not kind.needs_auth:
        assert response.status_code == 400
        assert "need no authorization" in response.json()["error"]
        assert decide(request, [channel])[0].allowed  # history: only that exact public name
        return
    body = response.json()
    if response.status_code == 200:
        assert body["auth"] == token(channel, channel_data=body.get("channel_data"))
    assert ("shared_secret" in body) is (response.status_code == 200 and kind.is_encrypted)
    assert ("channel_data" in body) is (response.status_code == 200 and kind.is_presence)


def test_rules_match_names_case_sensitively() -> None:
    registry = RuleRegistry()
    registry.register("private-room-{room}", lambda user, room: True)
    registry.register("private-team-{team:int}", lambda user, team: True)
    assert registry.find("private-room-a") is not None
    for name in ["private-Room-a", "private-ROOM-a", "Private-room-a", "private-team-1x"]:
        assert registry.find(name) is None, name


def test_a_channel_name_in_another_case_is_another_channel(member: Client) -> None:
    # private-room-{room} allows "member" everywhere; the answer signs the exact name asked.
    body = auth(member, "private-room-ABC").json()
    assert body == {"auth": token("private-room-ABC")}
    assert body["auth"] != token("private-room-abc")


# -- class 3: ASCII digits only ----------------------------------------------------------


@pytest.mark.parametrize("value", [*ODD_DIGITS, "1²", " 1", "+1", "-1", "1.0", "1" * 21])
def test_parse_whole_number_refuses_anything_but_ascii_digits(value: str) -> None:
    with pytest.raises(PusherValidationError, match="whole number from 0 to 100"):
        parse_whole_number(value, "limit", 0, 100)


@FUZZ
@given(st.text(max_size=25))
def test_parse_whole_number_reads_exactly_ascii_digit_strings(value: str) -> None:
    ascii_number = value != "" and len(value) <= 20 and all("0" <= c <= "9" for c in value)
    try:
        parsed = parse_whole_number(value, "after", 0, 2**63 - 1)
    except PusherValidationError:
        assert not ascii_number or int(value) > 2**63 - 1
    else:
        assert parsed == (int(value) if value else None)


def test_batch_indexes_with_non_ascii_digits_are_not_read_as_numbers(member: Client) -> None:
    response = member.post(BATCH, {"socket_id": SOCKET, "channel_name[\u0661]": "private-room-1"})
    assert response.status_code == 400
    assert response.json() == {"error": "No channel_name given."}
    ascii_index = member.post(BATCH, {"socket_id": SOCKET, "channel_name[1]": "private-room-1"})
    assert ascii_index.json()[SOCKET]["private-room-1"]["status"] == 200


@FUZZ
@given(index=st.text(min_size=1, max_size=6))
def test_fuzzed_batch_indexes_count_only_in_ascii_digits(member: Client, index: str) -> None:
    response = member.post(BATCH, {"socket_id": SOCKET, f"channel_name[{index}]": "private-room-1"})
    read = len(index) <= 4 and all("0" <= c <= "9" for c in index)
    assert response.status_code == (200 if read else 400)


@pytest.mark.parametrize("value", ODD_DIGITS)
def test_history_numbers_with_non_ascii_digits_are_a_400(member: Client, value: str) -> None:
    for name in ("after", "limit"):
        response = member.get("/pusher/history/", {"channel": "news", name: value})
        assert response.status_code == 400, (name, value)


@pytest.mark.parametrize("value", ODD_DIGITS)
def test_a_retry_after_header_of_non_ascii_digits_is_no_hint(value: str) -> None:
    assert parse_retry_after(value) is None
    assert parse_retry_after("12") == 12.0


def signed_webhook(client: Client, body: bytes) -> Any:
    signature = signing.hmac_sha256_hex(SECRET, body)
    headers = {"X-Pusher-Key": "unit-key", "X-Pusher-Signature": signature}
    return client.post("/pusher/webhook/", body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("time_ms", [*ODD_DIGITS, "now", "\uff11\uff17"])
def test_webhook_time_ms_is_a_json_integer_of_ascii_digits(time_ms: str) -> None:
    client = Client(enforce_csrf_checks=True)  # the webhook stays CSRF-exempt
    time_ms = str(int(time.time() * 1000)) if time_ms == "now" else time_ms
    quoted = json.dumps({"time_ms": time_ms, "events": []}).encode()
    assert signed_webhook(client, quoted).status_code == 400
    bare = b'{"time_ms": ' + time_ms.encode() + b', "events": []}'
    expected = 200 if time_ms.isascii() else 400
    assert signed_webhook(client, bare).status_code == expected


# -- class 4: strict socket ids -----------------------------------------------------------

ODD_SOCKET_IDS = ["١٢.٣٤", "12.٣٤", "1" * 21 + ".1", "1." + "1" * 21, "1" * 30 + "." + "1" * 30]


@pytest.mark.parametrize("socket_id", ODD_SOCKET_IDS)
def test_odd_socket_ids_are_refused_everywhere(member: Client, socket_id: str) -> None:
    assert not is_socket_id(socket_id)
    with pytest.raises(PusherValidationError, match="Invalid socket id"):
        validate_socket_id(socket_id)
    response = auth(member, "private-room-1", socket_id=socket_id)
    assert response.status_code == 400
    assert "auth" not in response.json()
    assert member.post(USER_AUTH, {"socket_id": socket_id}).status_code == 400
    with pytest.raises(PusherValidationError, match="Invalid socket id"):
        make_event("private-room-1", "e", {}, socket_id=socket_id)


@pytest.mark.parametrize("socket_id", ODD_SOCKET_IDS)
def test_the_listener_refuses_a_handshake_with_an_odd_socket_id(socket_id: str) -> None:
    data = json.dumps({"socket_id": socket_id, "activity_timeout": 30})
    message = protocol.parse(json.dumps({"event": "pusher:connection_established", "data": data}))
    with pytest.raises(ProtocolError, match="unusable socket_id"):
        protocol.handshake(message)


@FUZZ
@given(st.text(max_size=45))
def test_a_socket_id_is_exactly_two_runs_of_at_most_twenty_ascii_digits(value: str) -> None:
    head, dot, tail = value.partition(".")
    expected = (
        dot == "."
        and all(1 <= len(part) <= 20 for part in (head, tail))
        and all("0" <= c <= "9" for c in head + tail)
    )
    assert is_socket_id(value) is expected


def save_message(request: HttpRequest) -> HttpResponse:
    """A project's view: it saves a broadcasting model inside its own transaction."""
    with transaction.atomic():
        Message.objects.create(room=Room.objects.get(name="lobby"), text="hello")
    return HttpResponse("saved")


@pytest.mark.parametrize("header", [*ODD_SOCKET_IDS, "1.2; DROP", "1.2\n"])
def test_an_odd_x_socket_id_never_fails_the_users_save(header: str, caplog: Any) -> None:
    Room.objects.create(name="lobby")
    request = RequestFactory().post("/", headers={"X-Socket-ID": header})
    with caplog.at_level(logging.DEBUG, logger="pusher_django.middleware"):
        response = SocketIdMiddleware(save_message)(request)
    assert isinstance(response, HttpResponse)
    assert response.content == b"saved"
    assert Message.objects.filter(text="hello").count() == 1
    row = Delivery.objects.get(channel__startswith="private-encrypted-room-")
    assert row.socket_id == ""
    assert [r.levelname for r in caplog.records] == ["DEBUG"]


def test_a_strict_x_socket_id_is_stored_for_the_outbox() -> None:
    Room.objects.create(name="lobby")
    widest = "9" * 20 + "." + "9" * 20
    request = RequestFactory().post("/", headers={"X-Socket-ID": widest})
    SocketIdMiddleware(save_message)(request)
    assert Delivery.objects.get().socket_id == widest


# -- class 5: strict verdicts -------------------------------------------------------------


class Answers:
    """What the fuzzed rule answers next (a holder, since hypothesis reuses the fixture)."""

    verdict: Any = True


@pytest.fixture
def rules(monkeypatch: pytest.MonkeyPatch) -> RuleRegistry:
    registry = RuleRegistry()
    registry.register("private-said-{x}", lambda user, x: Answers.verdict)
    registry.register("presence-said-{x}", lambda user, x: Answers.verdict)
    registry.register("private-fine-{n:int}", lambda user, n: True)
    registry.register(
        "private-short-{n:int}", lambda user, matches: [True], many=True
    )  # one verdict, whatever it was asked
    monkeypatch.setattr(authorization, "registry", registry)
    return registry


NOT_VERDICTS = ["yes", "False", 1, 0, 1.5, ["x"], [], (True,), {True}, b"1", object()]


@pytest.mark.parametrize("verdict", NOT_VERDICTS, ids=repr)
def test_a_value_that_is_not_a_verdict_denies_with_a_warning(
    member: Client, rules: RuleRegistry, verdict: Any, caplog: Any
) -> None:
    Answers.verdict = verdict
    with caplog.at_level(logging.WARNING, logger="pusher_django"):
        response = auth(member, "private-said-1")
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden."}
    assert "Channel rule for private-said-1 returned a" in caplog.text
    assert "which is not a verdict" in caplog.text


@pytest.mark.parametrize(
    ("verdict", "status"), [(True, 200), ({"name": "m"}, 200), (None, 403), (False, 403), ({}, 403)]
)
def test_verdicts_allow_or_deny_without_a_warning(
    member: Client, rules: RuleRegistry, verdict: Any, status: int, caplog: Any
) -> None:
    Answers.verdict = verdict
    with caplog.at_level(logging.WARNING, logger="pusher_django"):
        assert auth(member, "private-said-1").status_code == status
    assert "not a verdict" not in caplog.text


def test_a_many_rule_with_the_wrong_count_fails_only_its_own_channels(
    member: Client, rules: RuleRegistry, caplog: Any
) -> None:
    channels = ["private-short-1", "private-short-2", "private-fine-1"]
    response = member.post(BATCH, {"socket_id": SOCKET, "channel_name[]": channels})
    assert response.status_code == 200
    answer = response.json()[SOCKET]
    assert answer["private-short-1"] == {"status": 403, "error": "Forbidden."}
    assert answer["private-short-2"] == {"status": 403, "error": "Forbidden."}
    assert answer["private-fine-1"] == {"status": 200, "data": {"auth": token("private-fine-1")}}
    assert "returned 1 verdicts for 2 matches" in caplog.text
    assert auth(member, "private-short-1").status_code == 200  # one match, one verdict


verdicts = st.one_of(
    st.booleans(),
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.lists(st.booleans(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)


@FUZZ
@given(verdict=verdicts, presence=st.booleans())
def test_fuzzed_verdicts_sign_only_true_or_a_mapping(
    member: Client, rules: RuleRegistry, verdict: Any, presence: bool
) -> None:
    Answers.verdict = verdict
    channel = "presence-said-1" if presence else "private-said-1"
    response = auth(member, channel)
    allowed = verdict is True or (isinstance(verdict, dict) and bool(verdict))
    assert response.status_code == (200 if allowed else 403)
    assert ("auth" in response.json()) is allowed
    if allowed and presence:
        member_data = json.loads(response.json()["channel_data"])
        assert member_data.get("user_info") == (verdict if isinstance(verdict, dict) else None)


def test_one_decision_for_every_endpoint(rules: RuleRegistry) -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    Answers.verdict = True
    public, private, presence = decide(request, ["news", "private-said-1", "presence-said-1"])
    assert public.allowed
    assert not private.allowed  # anonymous, and the rule does not allow anonymous users
    assert not presence.allowed


def test_a_presence_decision_needs_a_user_id(
    rules: RuleRegistry, settings: Any, django_user_model: Any
) -> None:
    settings.PUSHER = {**settings.PUSHER, "AUTH": {"PRESENCE_USER_ID": __name__ + ".no_id"}}
    request = RequestFactory().get("/")
    request.user = django_user_model.objects.create_user("m", password="pw")
    Answers.verdict = {"name": "m"}
    private, presence = decide(request, ["private-said-1", "presence-said-1"])
    assert private.allowed
    assert not presence.allowed


def no_id(user: Any) -> None:
    return None


# -- class 6: no 500 from user data ---------------------------------------------------------


class UserData:
    """What the user-data callables below return next."""

    name: str = "member"


def user_data(request: HttpRequest) -> dict[str, Any]:
    return {"id": str(request.user.pk), "user_info": {"name": UserData.name}}


def presence_id(user: Any) -> str:
    return UserData.name


UNENCODABLE = ["\ud800", "na\udfffme", "\udc80" * 3]


#: Where user data comes from -> the request that signs it, and the log line of the refusal.
USER_DATA_PATHS = {
    "USER_DATA": (__name__ + ".user_data", USER_AUTH, "Could not sign in user"),
    "PRESENCE_USER_ID": (__name__ + ".presence_id", AUTH, "Could not authorize presence-room-1"),
}


@pytest.mark.parametrize("setting", USER_DATA_PATHS)
@pytest.mark.parametrize("name", UNENCODABLE)
def test_user_data_that_cannot_be_encoded_is_a_403_and_a_log_line(
    member: Client, settings: Any, setting: str, name: str, caplog: Any
) -> None:
    path, url, logged = USER_DATA_PATHS[setting]
    settings.PUSHER = {**settings.PUSHER, "AUTH": {setting: path}}
    UserData.name = name
    with caplog.at_level(logging.WARNING, logger="pusher_django"):
        response = member.post(url, {"socket_id": SOCKET, "channel_name": "presence-room-1"})
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden."}
    assert logged in caplog.text
    assert "cannot be encoded as UTF-8" in caplog.text


@FUZZ
@given(name=st.text(st.one_of(st.characters(), st.sampled_from(["\ud800", "\udfff"]))))
def test_fuzzed_user_data_never_causes_a_5xx(member: Client, settings: Any, name: str) -> None:
    settings.PUSHER = {**settings.PUSHER, "AUTH": {"USER_DATA": __name__ + ".user_data"}}
    UserData.name = name
    response = member.post(USER_AUTH, {"socket_id": SOCKET})
    encodable = not any("\ud800" <= c <= "\udfff" for c in name)
    assert response.status_code == (200 if encodable else 403)


def test_the_secret_is_masked_in_tracebacks_through_signing() -> None:
    config = get_config()
    try:
        signing.channel_auth_token(config.key, config.secret, "1.2", "private-a", 5)  # type: ignore[arg-type]
    except TypeError:
        reporter = debug.ExceptionReporter(None, *sys.exc_info())
        page = reporter.get_traceback_html()  # the debug page, with every frame's locals
    assert "channel_signature" in page
    assert "channel_data" in page  # the other locals are still shown
    assert SECRET not in page


# -- class 8: secrets on debug pages and in debug logs --------------------------------------

URL_WITH_SECRET = "https://the-key:s3cr3t-value@api-eu.pusher.com/apps/123"


def w003(settings: Any) -> list[str]:
    debug.get_default_exception_reporter_filter.cache_clear()  # type: ignore[attr-defined]
    return [p.message for p in find_problems() if p.id == "pusher_django.W003"]


def test_w003_covers_pusher_url_in_the_environment_while_debug_is_on(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSHER_URL", URL_WITH_SECRET)
    settings.PUSHER = {}
    settings.DEBUG = False
    assert w003(settings) == []
    settings.DEBUG = True
    (message,) = w003(settings)
    assert "PUSHER_URL environment variable" in message
    assert "s3cr3t" not in message
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = (
        "pusher_django.reporting.SafeExceptionReporterFilter"
    )
    try:
        assert w003(settings) == []
    finally:
        debug.get_default_exception_reporter_filter.cache_clear()  # type: ignore[attr-defined]


def test_the_shipped_filter_keeps_the_environment_secret_off_the_debug_page(
    settings: Any,
) -> None:
    settings.DEBUG = True
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = (
        "pusher_django.reporting.SafeExceptionReporterFilter"
    )
    debug.get_default_exception_reporter_filter.cache_clear()  # type: ignore[attr-defined]
    # runserver copies os.environ into every request's META; so does this request.
    request = RequestFactory().get("/", PUSHER_URL=URL_WITH_SECRET)
    try:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            page = debug.technical_500_response(request, *sys.exc_info())
    finally:
        debug.get_default_exception_reporter_filter.cache_clear()  # type: ignore[attr-defined]
    html = page.content.decode()
    assert "PUSHER_URL" in html
    assert "api-eu.pusher.com/apps/123" in html
    assert "s3cr3t-value" not in html


@pytest.fixture
def http_server() -> Iterator[int]:
    """A real local HTTP server answering ``{}`` to every POST: its port."""
    with empty_api() as port:
        yield port


def test_urllib3_debug_lines_carry_no_usable_signature(
    http_server: int, settings: Any, caplog: Any
) -> None:
    settings.PUSHER = {**settings.PUSHER, "PORT": http_server}
    client = PusherClient(get_config())
    with caplog.at_level(logging.DEBUG, logger=URLLIB3_LOGGER):
        client.trigger("private-a", "e", {"n": 1})
    lines = [r.getMessage() for r in caplog.records if r.name == URLLIB3_LOGGER]
    lines = [line for line in lines if "/apps/123/events?" in line]
    assert lines
    for line in lines:
        assert "auth_signature=*** HTTP/1.1" in line
        assert "auth_key=unit-key" in line  # the rest of the line still helps debugging
    assert re.search(r"auth_signature=[0-9a-f]", caplog.text) is None
    assert SECRET not in caplog.text


# -- issue 27: one mapping of configuration errors to 503 ----------------------------------


def test_every_endpoint_answers_a_broken_configuration_with_the_same_503(
    member: Client, settings: Any, caplog: Any
) -> None:
    settings.PUSHER = {**settings.PUSHER, "SECRET": None}
    form = {"socket_id": SOCKET, "channel_name": "private-room-1"}
    answers = {
        "channel authorization": member.post(AUTH, form),
        "user sign-in": member.post(USER_AUTH, form),
        "webhook": signed_webhook(
            Client(enforce_csrf_checks=True), b'{"time_ms": 1, "events": []}'
        ),
    }
    batch = member.post(BATCH, {"socket_id": SOCKET, "channel_name[]": ["private-room-1"]})
    for what, response in [*answers.items(), ("channel authorization", batch)]:
        assert response.status_code == 503, what
        assert response.json() == {"error": "Pusher is not available."}
        assert f"Pusher {what} is unavailable" in caplog.text
    assert "SECRET" in caplog.text  # the operator learns what to fix


# -- the examples of docs/security.md ------------------------------------------------------

DOCS = Path(__file__).parents[2] / "docs" / "security.md"


def python_blocks() -> list[str]:
    """The page's Python examples in page order: the files its snippet lines include."""
    found = re.findall(r'^ *--8<-- "([^":]+\.py)[^"]*"', DOCS.read_text(), re.M)
    return [(DOCS.parent / "examples" / name).read_text() for name in found]


def test_the_rule_examples_of_the_docs_decide_as_documented(
    monkeypatch: pytest.MonkeyPatch, django_user_model: Any, caplog: Any
) -> None:
    monkeypatch.setattr(authorization, "registry", RuleRegistry())
    rules, _settings = python_blocks()
    exec(rules, {})  # noqa: S102 - our own documentation
    user = django_user_model.objects.create_user("ann", password="pw")
    user.groups.create(name="red")
    request = RequestFactory().get("/")
    request.user = user
    channels = ["private-report-1", "presence-team-red", "presence-team-blue", "private-flag-x"]
    with caplog.at_level(logging.WARNING, logger="pusher_django"):
        report, red, blue, flag = decide(request, channels)
    assert not report.allowed
    assert red == Decision(True, str(user.pk), {"name": "ann"})
    assert not blue.allowed
    assert not flag.allowed
    assert "Channel rule for private-flag-x returned a str" in caplog.text


def test_the_documented_report_filter_is_the_shipped_one() -> None:
    _rules, settings_block = python_blocks()
    namespace: dict[str, Any] = {}
    exec(settings_block, namespace)  # noqa: S102 - our own documentation
    path = namespace["DEFAULT_EXCEPTION_REPORTER_FILTER"]
    assert import_string(path) is SafeExceptionReporterFilter
