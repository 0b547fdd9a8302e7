from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("admin/", admin.site.urls),
]
