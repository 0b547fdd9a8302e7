"""Mounting the Prometheus view (docs/operating.md)."""

# urls.py
from django.urls import path

from pusher_django.metrics import metrics_view

urlpatterns = [
    # ...
    path("metrics/", metrics_view),
]
