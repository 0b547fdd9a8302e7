"""Configuration from settings and PUSHER_URL, and the system checks."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from pusher_django.checks import check_settings
from pusher_django.conf import find_problems, get_config, parse_pusher_url, reset_config
from pusher_django.exceptions import PusherConfigurationError

GOOD = {"APP_ID": "1", "KEY": "k", "SECRET": "s"}
MASTER = "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk="


def ids(settings_dict, settings):
    settings.PUSHER = settings_dict
    return [m.id for m in check_settings()]


def test_hosted_defaults(settings):
    settings.PUSHER = {**GOOD, "CLUSTER": "eu"}
    config = get_config()
    assert config.base_url == "https://api-eu.pusher.com:443"
    assert config.ws_url == "wss://ws-eu.pusher.com:443/app/k"
    assert config.timeout == 5.0
    assert config.max_payload_bytes == 10240


def test_no_cluster_means_mt1(settings):
    settings.PUSHER = GOOD
    assert get_config().host == "api-mt1.pusher.com"


def test_self_hosted_uses_host_for_websocket_too(settings):
    settings.PUSHER = {**GOOD, "HOST": "127.0.0.1", "PORT": 6001, "USE_TLS": False}
    config = get_config()
    assert config.base_url == "http://127.0.0.1:6001"
    assert config.ws_url == "ws://127.0.0.1:6001/app/k"


def test_override_settings_is_seen_without_restart(settings):
    settings.PUSHER = {**GOOD, "KEY": "first"}
    assert get_config().key == "first"
    settings.PUSHER = {**GOOD, "KEY": "second"}
    assert get_config().key == "second"


def test_pusher_url_setting(settings):
    settings.PUSHER = {}
    settings.PUSHER_URL = "http://the-key:the%2Fsecret@localhost:6001/apps/77"
    config = get_config()
    assert (config.app_id, config.key, config.secret) == ("77", "the-key", "the/secret")
    assert config.base_url == "http://localhost:6001"
    assert not config.use_tls


def test_pusher_url_environment_variable_and_dict_wins(settings, monkeypatch):
    settings.PUSHER = {"TIMEOUT": 2, "KEY": "override"}
    monkeypatch.setenv("PUSHER_URL", "https://a:b@api-eu.pusher.com/apps/9")
    reset_config()
    config = get_config()
    assert (config.app_id, config.key, config.secret, config.port) == ("9", "override", "b", 443)
    assert config.timeout == 2


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://a:b@h/apps/1", "http:// or https://"),
        ("http://h/apps/1", "KEY:SECRET@"),
        ("http://a:b@h/app/1", "/apps/APP_ID"),
        ("http://a:b@h:99999/apps/1", "bad port"),
    ],
)
def test_malformed_pusher_url(url, message):
    with pytest.raises(ValueError, match=message):
        parse_pusher_url(url)


def test_secret_never_in_repr_or_errors(settings):
    settings.PUSHER = {
        **GOOD,
        "SECRET": "topsecret",
        "ENCRYPTION_MASTER_KEY_BASE64": MASTER,
        "LISTENER": {"LOCK_URL": "redis://:lockpass@redis:6379/0"},
    }
    text = repr(get_config())
    assert "topsecret" not in text
    assert MASTER not in text
    assert "lockpass" not in text
    assert "pong_timeout=30.0" in text  # the sections are there, only the secrets are not
    settings.PUSHER = {}
    settings.PUSHER_URL = "http://a:topsecret@h/apps/x1"
    with pytest.raises(PusherConfigurationError) as info:
        get_config()
    assert "topsecret" not in str(info.value)
    assert "APP_ID" in str(info.value)


def test_valid_configuration_has_no_messages(settings):
    assert ids({**GOOD, "ENCRYPTION_MASTER_KEY_BASE64": MASTER}, settings) == []


@pytest.mark.parametrize(
    ("pusher", "expected"),
    [
        ({}, ["pusher_django.E002", "pusher_django.E004", "pusher_django.E005"]),
        ({**GOOD, "APP_ID": "abc"}, ["pusher_django.E003"]),
        ({**GOOD, "ENCRYPTION_MASTER_KEY_BASE64": "c2hvcnQ="}, ["pusher_django.E007"]),
        ({**GOOD, "ENCRYPTION_MASTER_KEY_BASE64": "***"}, ["pusher_django.E007"]),
        ({**GOOD, "PORT": "6001"}, ["pusher_django.E008"]),
        ({**GOOD, "WS_PORT": 70000}, ["pusher_django.E009"]),
        ({**GOOD, "CLUSTER": "eu", "HOST": "127.0.0.1"}, ["pusher_django.E010"]),
        ({**GOOD, "TIMEOUT": 0}, ["pusher_django.E011"]),
        ({**GOOD, "USE_TLS": "yes"}, ["pusher_django.E012"]),
        ({**GOOD, "MAX_PAYLOAD_BYTES": -1}, ["pusher_django.E013"]),
        ({**GOOD, "CLUSTER": "EU 1"}, ["pusher_django.E014"]),
        ({**GOOD, "HOST": "https://soketi:6001"}, ["pusher_django.E015"]),
        ({**GOOD, "LISTENER": {"CHANNELS": ["ok", "bad name"]}}, ["pusher_django.E016"]),
        ({**GOOD, "LISTENER": {"CHANNELS": "presence-a"}}, ["pusher_django.E016"]),
        ({**GOOD, "LISTENER": {"PONG_TIMEOUT": 0}}, ["pusher_django.E017"]),
        ({**GOOD, "WEBHOOKS": {"DEDUP_TTL": "1h"}}, ["pusher_django.E017"]),
        ({**GOOD, "WEBHOOKS": {"CACHE": "nope"}}, ["pusher_django.E018"]),
        ({**GOOD, "SECRETS": "typo"}, ["pusher_django.W001"]),
        ("not a dict", ["pusher_django.E001"]),
        # Every section is checked, not only the listener's and the webhooks'.
        ({**GOOD, "CELERY": {"MAX_RETRIES": "ten"}}, ["pusher_django.E024"]),
        ({**GOOD, "CELERY": {"QUEUE": ""}}, ["pusher_django.E020"]),
        ({**GOOD, "ADMIN": {"CACHE_SECONDS": "x"}}, ["pusher_django.E019"]),
        ({**GOOD, "AUTH": {"POLICY": "no.such.Policy"}}, ["pusher_django.E022"]),
        ({**GOOD, "AUTH": {"USER_DATA": 42}}, ["pusher_django.E022"]),
        ({**GOOD, "USERS": {"TERMINATE_ON_LOGOUT": "yes"}}, ["pusher_django.E023"]),
        ({**GOOD, "WEBHOOKS": {"ASYNC": 1}}, ["pusher_django.E023"]),
        ({**GOOD, "OUTBOX": {"SEND_AT_COMMIT": "yes"}}, ["pusher_django.E023"]),
        ({**GOOD, "LISTENER": {"USER_INFO": ["x"]}}, ["pusher_django.E028"]),
        # The ids split out of E017 and E024: one id per fault.
        ({**GOOD, "LISTENER": {"CLIENT_EVENTS_PER_SECOND": 2.5}}, ["pusher_django.E025"]),
        ({**GOOD, "WEBHOOKS": {"MAX_AGE": "5m"}}, ["pusher_django.E026"]),
        ({**GOOD, "LISTENER": {"USER_ID": ""}}, ["pusher_django.E027"]),
        ({**GOOD, "LISTENER": None}, ["pusher_django.E021"]),
        ({**GOOD, "OUTBOX": "fast"}, ["pusher_django.E021"]),
        ({**GOOD, "LISTENER": {"CHANELS": ["x"]}}, ["pusher_django.W001"]),
    ],
)
def test_each_misconfiguration_has_its_id(pusher, expected, settings):
    assert ids(pusher, settings) == expected


def test_cluster_and_matching_host_are_fine(settings):
    assert ids({**GOOD, "CLUSTER": "eu", "HOST": "api-eu.pusher.com"}, settings) == []


def test_bad_pusher_url_is_reported(settings):
    settings.PUSHER_URL = "nonsense"
    assert "pusher_django.E006" in ids({}, settings)


def test_manage_py_check_fails_with_hint(settings):
    settings.PUSHER = {**GOOD, "APP_ID": "abc"}
    with pytest.raises(SystemCheckError) as info:
        call_command("check")
    assert "pusher_django.E003" in str(info.value)
    assert "numeric app id" in str(info.value)


def test_every_section_is_typed_on_the_one_config(settings):
    settings.PUSHER = {
        **GOOD,
        "CELERY": {"MAX_RETRIES": 3, "QUEUE": "pusher"},
        "LISTENER": {"CHANNELS": ["presence-a", "presence-a", "b"], "PONG_TIMEOUT": 5},
        "AUTH": {"POLICY": "pusher_django.authorization.ChannelPolicy"},
        "WEBHOOKS": {"ASYNC": True, "MAX_AGE": None},
    }
    config = get_config()
    assert config.celery.max_retries == 3
    assert config.celery.queue == "pusher"
    assert config.celery.retry_backoff == 1.0
    assert config.listener.channels == ("presence-a", "b")
    assert config.listener.pong_timeout == 5.0
    assert isinstance(config.listener.pong_timeout, float)
    assert config.auth.policy == "pusher_django.authorization.ChannelPolicy"
    assert config.webhooks.asynchronous is True
    assert config.webhooks.max_age is None
    assert config.outbox.id_field == "_pusher_id"
    assert get_config() is config


def test_a_section_that_is_not_a_dict_is_reported_not_raised(settings):
    settings.PUSHER = {**GOOD, "LISTENER": None}
    problems = find_problems()
    assert [p.id for p in problems] == ["pusher_django.E021"]
    assert "PUSHER['LISTENER'] must be a dict, got None" in problems[0].message
    with pytest.raises(SystemCheckError, match="E021"):
        call_command("check")


def test_unimportable_dotted_path_names_the_import_error(settings):
    settings.PUSHER = {**GOOD, "AUTH": {"POLICY": "no.such.Policy"}}
    (problem,) = find_problems()
    assert "PUSHER['AUTH']['POLICY']" in problem.message
    assert "cannot be imported" in problem.message
    assert "Remove PUSHER['AUTH']['POLICY']" in problem.hint


def test_defaults_come_from_the_typed_sections():
    from pusher_django.conf import DEFAULTS, ListenerSettings

    assert DEFAULTS["LISTENER"]["PONG_TIMEOUT"] == ListenerSettings().pong_timeout
    assert DEFAULTS["WEBHOOKS"]["ASYNC"] is False
    assert set(DEFAULTS["OUTBOX"]) >= {"LEASE", "ID_FIELD", "COALESCE_WINDOW"}
    assert DEFAULTS["OUTBOX"]["SEND_AT_COMMIT"] is True


def test_top_level_keys_are_declared_and_checked_like_the_sections(settings):
    from pusher_django.conf import DEFAULTS

    assert DEFAULTS["TIMEOUT"] == 5
    assert DEFAULTS["MAX_PAYLOAD_BYTES"] == 10240
    settings.PUSHER = {**GOOD, "TIMEOUT": "5s", "USE_TLS": 1}
    problems = find_problems()
    assert [p.id for p in problems] == ["pusher_django.E012", "pusher_django.E011"]
    assert "PUSHER['TIMEOUT'] must be a positive number of seconds, got '5s'." in [
        p.message for p in problems
    ]
    assert "Set PUSHER['TIMEOUT'] = 5." in [p.hint for p in problems]


def test_a_bad_master_key_is_reported_without_echoing_it(settings):
    settings.PUSHER = {**GOOD, "ENCRYPTION_MASTER_KEY_BASE64": "c2hvcnQ="}
    (problem,) = find_problems()
    assert problem.id == "pusher_django.E007"
    assert "c2hvcnQ=" not in problem.message + problem.hint
    assert "decodes to 5 bytes; 32 are required" in problem.message


def test_the_lease_warning_counts_requests_by_the_clients_batch_size(settings):
    from pusher_django.client import MAX_BATCH_EVENTS

    claim = 3 * MAX_BATCH_EVENTS + 1  # four batch requests
    settings.PUSHER = {**GOOD, "TIMEOUT": 5, "OUTBOX": {"CLAIM_SIZE": claim, "LEASE": 20}}
    (problem,) = find_problems()
    assert problem.id == "pusher_django.W002"
    assert "4 requests x TIMEOUT 5 s" in problem.message
    settings.PUSHER = {**GOOD, "TIMEOUT": 5, "OUTBOX": {"CLAIM_SIZE": claim, "LEASE": 21}}
    assert find_problems() == []


def test_every_check_id_is_unique_and_documented():
    from pathlib import Path

    from pusher_django.conf.codes import CODES

    ids_in_table = [code.id for code in CODES]
    assert len(ids_in_table) == len(set(ids_in_table))
    page = (Path(__file__).parents[2] / "docs" / "reference" / "checks.md").read_text()
    documented = re.findall(r"^\| `(pusher_django\.[EW]\d{3})` \|", page, flags=re.MULTILINE)
    assert documented == ids_in_table


def test_the_silencing_example_of_the_checks_page_silences(settings, capsys):
    import runpy
    from pathlib import Path

    docs = Path(__file__).parents[2] / "docs"
    assert '--8<-- "silence_check.py:3:"' in (docs / "reference" / "checks.md").read_text()
    settings.PUSHER = {**GOOD, "OUTBOX": {"LEASE": 1}}
    call_command("check")
    assert "pusher_django.W002" in capsys.readouterr().err
    example = runpy.run_path(str(docs / "examples" / "silence_check.py"))
    settings.SILENCED_SYSTEM_CHECKS = example["SILENCED_SYSTEM_CHECKS"]
    call_command("check")
    assert "pusher_django.W002" not in capsys.readouterr().err


class _OutboxElsewhere:
    """A router that keeps the outbox table out of ``default``."""

    def allow_migrate(self, db, app_label, **hints):
        return False if app_label == "pusher_django" else None


def test_the_deploy_check_names_pusher_djangos_backend_for_djangos_own():
    from django.db import connections

    from pusher_django.checks import check_outbox_databases
    from pusher_django.db import OutboxFlushMixin, flushing_engine

    found = [m for m in check_outbox_databases() if "'default'" in m.msg]
    engine = connections["default"].settings_dict["ENGINE"]
    if isinstance(connections["default"], OutboxFlushMixin):  # TEST_OUTBOX_FLUSH=1 lines
        assert found == []
        assert engine.startswith("pusher_django.db.")
    else:
        assert [m.id for m in found] == ["pusher_django.W005"]
        ours = flushing_engine(engine)
        assert ours.startswith("pusher_django.db.")
        assert found[0].hint == f"Set DATABASES['default']['ENGINE'] to {ours!r}."


def test_the_deploy_check_skips_a_database_the_outbox_table_is_not_in(settings):
    from pusher_django.checks import check_outbox_databases

    settings.DATABASE_ROUTERS = [f"{__name__}._OutboxElsewhere"]
    assert not [m for m in check_outbox_databases() if "'default'" in m.msg]


def test_the_backend_advice_is_given_by_check_deploy_only(settings, capsys):
    from django.db import connections

    from pusher_django.db import OutboxFlushMixin

    settings.PUSHER = GOOD
    call_command("check")
    assert "pusher_django.W005" not in capsys.readouterr().err
    call_command("check", "--deploy")
    advised = "pusher_django.W005" in capsys.readouterr().err
    assert advised is not isinstance(connections["default"], OutboxFlushMixin)


def test_the_deploy_check_leaves_a_backend_that_does_not_load_to_django(monkeypatch):
    from django.conf import settings as django_settings

    from pusher_django.checks import check_outbox_databases

    monkeypatch.setitem(django_settings.DATABASES, "broken", {"ENGINE": "no.such.backend"})
    assert not [m for m in check_outbox_databases() if "'broken'" in m.msg]


def test_the_deploy_check_leaves_out_a_replica_and_the_dummy_backend(monkeypatch):
    from django.conf import settings as django_settings

    from pusher_django.checks import check_outbox_databases

    replica = {"ENGINE": "django.db.backends.sqlite3", "TEST": {"MIRROR": "default"}}
    monkeypatch.setitem(django_settings.DATABASES, "replica", replica)
    monkeypatch.setitem(django_settings.DATABASES, "none", {"ENGINE": "django.db.backends.dummy"})
    named = " ".join(m.msg for m in check_outbox_databases())
    assert "'replica'" not in named
    assert "'none'" not in named
