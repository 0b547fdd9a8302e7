from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView

from .chat import views

# The admin's lists get the whole width of a 1280 px window (the app list is on the index).
admin.site.enable_nav_sidebar = False

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.room_list, name="room-list"),
    path("rooms/<int:room_id>/", views.room, name="room"),
    path("rooms/<int:room_id>/messages/", views.post_message, name="post-message"),
    path("rooms/<int:room_id>/announcement/", views.post_announcement, name="post-announcement"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("pusher/", include("pusher_django.urls")),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin's).
    path("favicon.ico", RedirectView.as_view(url=static("chat/favicon.svg"), permanent=True)),
]
