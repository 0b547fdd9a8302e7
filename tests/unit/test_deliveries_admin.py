"""Pusher → Deliveries: event data only for ``view_delivery_data``, masked for everyone else."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from pusher_django.models import Delivery

pytestmark = pytest.mark.django_db

SECRET = "the-launch-code-0000"
LIST = "/admin/pusher_django/delivery/"


@pytest.fixture
def row() -> Delivery:
    return Delivery.objects.create(
        channel="private-encrypted-ops",
        name="deploy",
        data=f'{{"code":"{SECRET}"}}',
        status=Delivery.Status.FAILED,
        error="401 Unauthorized",
    )


def staff(django_user_model: Any, *codenames: str) -> Client:
    user = django_user_model.objects.create_user(
        f"staff-{'-'.join(codenames)}", password="pw", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="pusher_django", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_without_the_permission_data_is_masked_on_list_detail_and_search(
    row: Delivery, django_user_model: Any
) -> None:
    client = staff(django_user_model, "view_delivery")
    listing = page(client, LIST)
    assert "private-encrypted-ops" in listing
    assert SECRET not in listing
    detail = page(client, f"{LIST}{row.pk}/change/")
    assert "deploy" in detail
    assert SECRET not in detail
    assert "hidden (needs the permission" in detail
    assert "0 results" in page(client, f"{LIST}?q={SECRET}")  # search never looks at data


@pytest.mark.parametrize("lookup", ["data__contains", "data__startswith", "data", "data__regex"])
def test_a_lookup_on_data_is_refused_for_everyone(
    row: Delivery, django_user_model: Any, lookup: str
) -> None:
    """Otherwise the row count would answer yes or no about hidden data."""
    for client in (
        staff(django_user_model, "view_delivery"),
        staff(django_user_model, "view_delivery", "view_delivery_data"),
    ):
        response = client.get(LIST, {lookup: SECRET[:8]})
        assert response.status_code == 400
        assert SECRET not in response.content.decode()


def test_with_the_permission_data_is_shown(row: Delivery, django_user_model: Any) -> None:
    client = staff(django_user_model, "view_delivery", "view_delivery_data")
    assert SECRET in page(client, LIST)
    detail = page(client, f"{LIST}{row.pk}/change/")
    assert SECRET in detail
    assert "hidden (needs the permission" not in detail


def test_a_superuser_sees_data(row: Delivery, admin_client: Client) -> None:
    assert SECRET in page(admin_client, f"{LIST}{row.pk}/change/")


@pytest.mark.parametrize("is_reference", [True, False])
def test_the_detail_says_whether_the_event_went_by_reference(
    row: Delivery, admin_client: Client, is_reference: bool
) -> None:
    Delivery.objects.filter(pk=row.pk).update(is_reference=is_reference)
    detail = page(admin_client, f"{LIST}{row.pk}/change/")
    field = detail.split('class="form-row field-by_reference"', 1)[1].split("form-row", 1)[0]
    assert "Sent by reference" in field
    assert f'alt="{is_reference}"' in field
