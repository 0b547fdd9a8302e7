"""The checks that need more than one setting, in one list.

Each takes the merged values (top-level keys and sections) after every field
was checked on its own, and reports only when the settings it reads are each
valid, so one bad value is reported once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from . import codes
from .connection import hosted_host
from .problem import Problem, shown
from .rules import POSITIVE, POSITIVE_INT

__all__ = ["CROSS_CHECKS"]


def check_cluster_and_host(v: Mapping[str, Any]) -> list[Problem]:
    """A cluster names hosted Pusher's host; a different HOST beside it is a mistake."""
    cluster, host = v["CLUSTER"], v["HOST"]
    if not (isinstance(cluster, str) and cluster and host) or host == hosted_host("api", cluster):
        return []
    return [
        Problem(
            codes.CLUSTER_AND_HOST,
            f"PUSHER['CLUSTER'] ({shown(cluster)}) and PUSHER['HOST'] ({shown(host)}) "
            "contradict each other.",
            "Set CLUSTER for hosted Pusher or HOST for a self-hosted server, not both.",
        )
    ]


def check_outbox_lease(v: Mapping[str, Any]) -> list[Problem]:
    """A lease shorter than one claim's worst-case sending time invites double sends."""
    from pusher_django.client import MAX_BATCH_EVENTS  # the client imports the configuration

    outbox = v["OUTBOX"]
    lease, size, timeout = outbox["LEASE"], outbox["CLAIM_SIZE"], v["TIMEOUT"]
    if not (POSITIVE.test(lease) and POSITIVE_INT.test(size) and POSITIVE.test(timeout)):
        return []
    requests_per_claim = -(-size // MAX_BATCH_EVENTS)
    if lease > timeout * requests_per_claim:
        return []
    return [
        Problem(
            codes.SHORT_LEASE,
            f"PUSHER['OUTBOX']['LEASE'] ({lease:g} s) is not longer than sending one "
            f"claim can take ({requests_per_claim} requests x TIMEOUT {timeout:g} s): "
            "slow sends may be claimed again and sent twice.",
            "Raise OUTBOX['LEASE'] or lower OUTBOX['CLAIM_SIZE'] or TIMEOUT.",
        )
    ]


def check_reference_limit(v: Mapping[str, Any]) -> list[Problem]:
    """At or below the payload limit, ``by_reference`` refuses every event it exists for."""
    limit, payload = v["OUTBOX"]["MAX_REFERENCE_BYTES"], v["MAX_PAYLOAD_BYTES"]
    if not (POSITIVE_INT.test(limit) and POSITIVE_INT.test(payload)) or limit > payload:
        return []
    return [
        Problem(
            codes.SMALL_REFERENCE_LIMIT,
            f"PUSHER['OUTBOX']['MAX_REFERENCE_BYTES'] ({limit}) is not above "
            f"PUSHER['MAX_PAYLOAD_BYTES'] ({payload}): no event can be sent by reference.",
            "Raise OUTBOX['MAX_REFERENCE_BYTES'] (default 1048576) or remove it.",
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
                    codes.SECRET_IN_REPORTS,
                    "Django's error reports (the debug page, the 500 mail to ADMINS) would "
                    f"show the secret in the PUSHER_URL {source}.",
                    "Set DEFAULT_EXCEPTION_REPORTER_FILTER = "
                    "'pusher_django.reporting.SafeExceptionReporterFilter'.",
                )
            ]
    return []


def _url_secret(url: object) -> str | None:
    try:
        return urlsplit(url).password if isinstance(url, str) and url else None
    except ValueError:
        return None


#: Run in this order after the field checks.
CROSS_CHECKS: list[Callable[[Mapping[str, Any]], list[Problem]]] = [
    check_cluster_and_host,
    check_outbox_lease,
    check_reference_limit,
    check_reports,
]
