"""Retry policy of the Celery tasks (run eagerly; the network is a closed port)."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User

from pusher_django import tasks
from pusher_django.exceptions import PusherConnectionError, PusherRateLimited, PusherValidationError
from pusher_django.retry import retry_delay


def test_backoff_grows_is_capped_and_honours_retry_after(settings):
    settings.PUSHER = {**settings.PUSHER, "CELERY": {"RETRY_BACKOFF": 1, "RETRY_BACKOFF_MAX": 8}}
    error = PusherConnectionError("down")
    assert all(0 <= retry_delay(0, error) <= 1 for _ in range(50))
    assert all(0 <= retry_delay(10, error) <= 8 for _ in range(50))
    limited = PusherRateLimited("slow", retry_after=30, status=429, method="POST", path="/")
    assert retry_delay(0, limited) == 30


def test_transient_failure_is_retried_then_given_up(settings, caplog):
    settings.PUSHER = {**settings.PUSHER, "CELERY": {"MAX_RETRIES": 2, "RETRY_BACKOFF": 0}}
    with caplog.at_level(logging.WARNING, logger="pusher_django"):
        result = tasks.trigger.apply(args=("a", "e", {}))
    assert isinstance(result.result, PusherConnectionError)
    assert caplog.text.count("; retry ") == 2
    assert "gave up after 2 retries" in caplog.text


def test_bad_input_is_not_retried(caplog):
    result = tasks.trigger.apply(args=("bad name", "e", {}))
    assert isinstance(result.result, PusherValidationError)
    assert "refused, not retried" in caplog.text
    assert "retry 1" not in caplog.text


@pytest.mark.django_db
def test_deactivating_or_deleting_a_user_terminates_after_commit(monkeypatch, settings):
    calls: list[str] = []
    monkeypatch.setattr(
        tasks.terminate_user_connections, "apply_async", lambda args, **kw: calls.append(args[0])
    )
    user = User.objects.create_user("quitter")
    user.save()
    user.is_active = False
    with pytest.MonkeyPatch.context():
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            user.save()
        assert calls == [str(user.pk)]
        with TestCase.captureOnCommitCallbacks(execute=True):
            user.save()  # already inactive: nothing new
        assert calls == [str(user.pk)]
        settings.PUSHER = {**settings.PUSHER, "USERS": {"TERMINATE_ON_DEACTIVATE": False}}
        other = User.objects.create_user("other")
        other.is_active = False
        with TestCase.captureOnCommitCallbacks(execute=True):
            other.save()
        assert calls == [str(user.pk)]
        settings.PUSHER = {**settings.PUSHER, "USERS": {"TERMINATE_ON_DEACTIVATE": True}}
        pk = other.pk
        with TestCase.captureOnCommitCallbacks(execute=True):
            other.delete()
        assert calls == [str(user.pk), str(pk)]


@pytest.mark.django_db
def test_a_misconfigured_pusher_never_breaks_saving_or_deleting_users(
    monkeypatch, settings, caplog
):
    calls: list[str] = []
    monkeypatch.setattr(
        tasks.terminate_user_connections, "apply_async", lambda args, **kw: calls.append(args[0])
    )
    user = User.objects.create_user("keeper")
    settings.PUSHER = {"USERS": {"TERMINATE_ON_DEACTIVATE": True}}  # no credentials
    user.is_active = False
    from django.test import TestCase

    with (
        caplog.at_level(logging.WARNING, logger="pusher_django"),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        user.save()
        user.delete()
    assert calls == []
    assert "Pusher is not configured; user connections are not terminated" in caplog.text
    assert not User.objects.filter(username="keeper").exists()
