"""The endpoints (docs/how-to/existing-project.md)."""

from django.urls import include, path

urlpatterns = [path("pusher/", include("pusher_django.urls"))]
