from django.contrib import admin
from django.urls import include, path

from board import views

urlpatterns = [
    path("", views.index),
    path("pusher/", include("pusher_django.urls")),
    path("admin/", admin.site.urls),
]
