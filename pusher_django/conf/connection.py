"""The top-level keys of ``PUSHER``: credentials, hosts and request options.

Checked here, built into :class:`~pusher_django.conf.PusherConfig` there.
Only what would otherwise fail later and far away is reported, each with a
stable id and the setting to change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from .parsing import parse_master_key
from .problem import Problem, shown

#: The top-level defaults (the sections' live in :mod:`.sections`).
CONNECTION_DEFAULTS: dict[str, Any] = {
    "APP_ID": None,
    "KEY": None,
    "SECRET": None,
    "CLUSTER": None,
    "HOST": None,
    "PORT": None,
    "WS_HOST": None,
    "WS_PORT": None,
    "USE_TLS": True,
    "ENCRYPTION_MASTER_KEY_BASE64": None,
    "TIMEOUT": 5,
    # Hosted Pusher refuses event data over 10 KB; self-hosted servers may allow more.
    "MAX_PAYLOAD_BYTES": 10240,
}

DEFAULT_CLUSTER = "mt1"
_CLUSTER_RE = re.compile(r"\A[a-z0-9-]+\Z")
_HOST_RE = re.compile(r"\A[A-Za-z0-9.\-_\[\]:]+\Z")


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def check_credentials(v: Mapping[str, Any]) -> list[Problem]:
    problems = []
    app_id = v["APP_ID"]
    if app_id in (None, ""):
        problems.append(
            Problem(
                "pusher_django.E002",
                "PUSHER['APP_ID'] is not set.",
                "Set PUSHER['APP_ID'] to your app's numeric id, or set PUSHER_URL.",
            )
        )
    elif not re.fullmatch(r"[0-9]+", str(app_id)):
        problems.append(
            Problem(
                "pusher_django.E003",
                f"PUSHER['APP_ID'] must be numeric, got {shown(app_id)}.",
                "Copy the numeric app id from the Pusher dashboard (App Keys).",
            )
        )
    for name, pid in (("KEY", "E004"), ("SECRET", "E005")):
        if not v[name] or not isinstance(v[name], str):
            problems.append(
                Problem(
                    f"pusher_django.{pid}",
                    f"PUSHER[{name!r}] is not set.",
                    f"Set PUSHER[{name!r}] from the Pusher dashboard (App Keys) or set PUSHER_URL.",
                )
            )
    return problems


def check_hosts(v: Mapping[str, Any]) -> list[Problem]:
    problems = []
    cluster, host = v["CLUSTER"], v["HOST"]
    if cluster is not None and not (isinstance(cluster, str) and _CLUSTER_RE.match(cluster)):
        problems.append(
            Problem(
                "pusher_django.E014",
                f"PUSHER['CLUSTER'] {shown(cluster)} is not a cluster name.",
                "Set PUSHER['CLUSTER'] to a name such as 'mt1' or 'eu'.",
            )
        )
    for name in ("HOST", "WS_HOST"):
        value = v[name]
        if value is not None and not (isinstance(value, str) and _HOST_RE.match(value)):
            problems.append(
                Problem(
                    "pusher_django.E015",
                    f"PUSHER[{name!r}] must be a bare host name, got {shown(value)}.",
                    f"Set PUSHER[{name!r}] without scheme or path, e.g. '127.0.0.1'; "
                    "use USE_TLS and PORT for the rest.",
                )
            )
    if cluster and host and host != f"api-{cluster}.pusher.com":
        problems.append(
            Problem(
                "pusher_django.E010",
                f"PUSHER['CLUSTER'] ({shown(cluster)}) and PUSHER['HOST'] ({shown(host)}) "
                "contradict each other.",
                "Set CLUSTER for hosted Pusher or HOST for a self-hosted server, not both.",
            )
        )
    for name, pid in (("PORT", "E008"), ("WS_PORT", "E009")):
        if v[name] is not None and not _is_port(v[name]):
            problems.append(
                Problem(
                    f"pusher_django.{pid}",
                    f"PUSHER[{name!r}] must be an integer from 1 to 65535, got {shown(v[name])}.",
                    f"Set PUSHER[{name!r}] to a port number, or None for the default.",
                )
            )
    return problems


def check_options(v: Mapping[str, Any]) -> list[Problem]:
    problems = []
    if not isinstance(v["USE_TLS"], bool):
        problems.append(
            Problem(
                "pusher_django.E012",
                "PUSHER['USE_TLS'] must be True or False.",
                "Set PUSHER['USE_TLS'] = True for hosted Pusher.",
            )
        )
    timeout = v["TIMEOUT"]
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        problems.append(
            Problem(
                "pusher_django.E011",
                f"PUSHER['TIMEOUT'] must be a positive number of seconds, got {shown(timeout)}.",
                "Set PUSHER['TIMEOUT'] = 5.",
            )
        )
    size = v["MAX_PAYLOAD_BYTES"]
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        problems.append(
            Problem(
                "pusher_django.E013",
                f"PUSHER['MAX_PAYLOAD_BYTES'] must be a positive integer, got {shown(size)}.",
                "Set PUSHER['MAX_PAYLOAD_BYTES'] = 10240 (the hosted Pusher limit).",
            )
        )
    key = v["ENCRYPTION_MASTER_KEY_BASE64"]
    if key is not None:
        try:
            parse_master_key(key)
        except ValueError as err:
            problems.append(
                Problem(
                    "pusher_django.E007",
                    f"{err}.",
                    "Generate one with `openssl rand -base64 32` and set "
                    "PUSHER['ENCRYPTION_MASTER_KEY_BASE64'].",
                )
            )
    return problems


def check_outbox_lease(v: Mapping[str, Any]) -> list[Problem]:
    """A lease shorter than one claim's worst-case sending time invites double sends."""
    outbox = v["OUTBOX"]
    lease, size, timeout = outbox["LEASE"], outbox["CLAIM_SIZE"], v["TIMEOUT"]
    numbers = (lease, size, timeout)
    if not all(isinstance(n, int | float) and not isinstance(n, bool) and n > 0 for n in numbers):
        return []
    requests_per_claim = -(-int(size) // 10)
    if lease > timeout * requests_per_claim:
        return []
    return [
        Problem(
            "pusher_django.W002",
            f"PUSHER['OUTBOX']['LEASE'] ({lease:g} s) is not longer than sending one "
            f"claim can take ({requests_per_claim} requests x TIMEOUT {timeout:g} s): "
            "slow sends may be claimed again and sent twice.",
            "Raise OUTBOX['LEASE'] or lower OUTBOX['CLAIM_SIZE'] or TIMEOUT.",
            "warning",
        )
    ]


def check_reports(_values: Mapping[str, Any]) -> list[Problem]:
    """The ``PUSHER_URL`` secret must not reach Django's error reports.

    The setting is printed in every report. The environment variable is
    printed on the debug page, in the request's META (``runserver`` copies
    the environment into every request), so it counts while ``DEBUG`` is on.
    """
    from django.views.debug import get_default_exception_reporter_filter

    sources = [("setting", getattr(settings, "PUSHER_URL", None))]
    if settings.DEBUG:
        sources.append(("environment variable", os.environ.get("PUSHER_URL")))
    report_filter = get_default_exception_reporter_filter()
    for source, url in sources:
        secret = _url_secret(url)
        if secret and secret in str(report_filter.cleanse_setting("PUSHER_URL", url)):
            return [
                Problem(
                    "pusher_django.W003",
                    "Django's error reports (the debug page, the 500 mail to ADMINS) would "
                    f"show the secret in the PUSHER_URL {source}.",
                    "Set DEFAULT_EXCEPTION_REPORTER_FILTER = "
                    "'pusher_django.reporting.SafeExceptionReporterFilter'.",
                    "warning",
                )
            ]
    return []


def _url_secret(url: object) -> str | None:
    try:
        return urlsplit(url).password if isinstance(url, str) and url else None
    except ValueError:
        return None
