"""Create the demo users and rooms (idempotent); print the credentials."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from demo_project.chat.models import Room

USERS = {"alice": True, "bob": True, "carol": False}  # name -> may use the admin
ROOMS = {1: "General", 2: "Random"}


class Command(BaseCommand):
    help = "Create the demo users (alice, bob, carol) and rooms."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        users = []
        for name, staff in USERS.items():
            user, _ = user_model.objects.get_or_create(username=name)
            user.is_staff = user.is_superuser = staff
            user.set_password(f"{name}-demo")
            user.save()
            users.append(user)
        for pk, name in ROOMS.items():
            room, _ = Room.objects.get_or_create(pk=pk, defaults={"name": name})
            room.members.add(*users)
        self.stdout.write(
            "users: alice / alice-demo, bob / bob-demo (both admins), carol / carol-demo"
        )
