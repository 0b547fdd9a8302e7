from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from pusher_django.metrics import metrics_view
from tests.testapp import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("pusher/", include("pusher_django.urls")),
    path("metrics/", metrics_view),
    path("test-pages/channels/", views.many_channels, name="test-many-channels"),
    path("test-pages/recovery/<int:room_id>/", views.recovery, name="test-recovery"),
    path("test-pages/references/", views.references, name="test-references"),
    path("test-pages/save/", views.save_message, name="test-save"),
    path("test-pages/asave/", views.asave_message, name="test-asave"),
    path("test-pages/atrigger/", views.atrigger_ping, name="test-atrigger"),
    path("test-pages/aauth/", views.aauthorize_lobby, name="test-aauth"),
]
