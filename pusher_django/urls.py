"""Mount with ``path("pusher/", include("pusher_django.urls"))``."""

from __future__ import annotations

from django.urls import path

from . import history, views, webhooks

urlpatterns = [
    path("auth/", views.channel_auth, name="pusher-auth"),
    path("auth/batch/", views.channel_auth_batch, name="pusher-auth-batch"),
    path("user-auth/", views.user_auth, name="pusher-user-auth"),
    path("webhook/", webhooks.webhook, name="pusher-webhook"),
    path("history/", history.history, name="pusher-history"),
]
