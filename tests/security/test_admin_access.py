"""The admin: staff only, and locked for a username and IP after 5 failed logins (django-axes)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
RIGHT = {"username": "staff", "password": "staff-password-1"}
WRONG = {"username": "staff", "password": "not-the-password"}


def _login(client, credentials: dict, ip: str = "203.0.113.5", **extra):
    return client.post(LOGIN, credentials, REMOTE_ADDR=ip, **extra)


def _logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_staff_logs_in_and_reaches_the_admin(client, staff_user):
    # when
    login = _login(client, RIGHT)
    index = client.get("/admin/")
    # then
    assert _logged_in(login)
    assert index.status_code == 200


def test_a_user_who_is_not_staff_cannot_log_in_to_the_admin(client, user_with_perms):
    # given: an active user holding model permissions, but not staff
    user_with_perms("groups.view_group", username="agent")
    # when
    login = _login(client, {"username": "agent", "password": "pw-123456789"})
    # then
    assert login.status_code == 200
    assert b"staff account" in login.content
    assert client.get("/admin/").status_code == 302


def test_a_signed_in_user_who_is_not_staff_is_sent_to_the_login_page(client, user_with_perms):
    # given: a session from elsewhere (e.g. the API docs)
    client.force_login(user_with_perms("groups.view_group", username="agent"))
    # when
    pages = [client.get(path) for path in ("/admin/", "/admin/groups/group/", "/admin/webhooks/webhookevent/")]
    # then
    assert [page.status_code for page in pages] == [302, 302, 302]
    assert all(page["Location"].startswith("/admin/login/") for page in pages)


def test_the_sixth_attempt_after_five_failures_is_refused_even_with_the_right_password(client, staff_user):
    # given
    failures = [_login(client, WRONG) for _ in range(5)]
    # when
    sixth = _login(client, RIGHT)
    # then
    assert all(response.status_code == 200 for response in failures[:4])  # The form again, with an error.
    assert sixth.status_code == 429
    assert not _logged_in(sixth)
    assert client.get("/admin/").status_code == 302


def test_four_failures_do_not_lock_and_a_success_resets_the_count(client, staff_user):
    # given
    for _ in range(4):
        _login(client, WRONG)
    # when
    first = _login(client, RIGHT)
    client.logout()
    for _ in range(4):
        _login(client, WRONG)
    second = _login(client, RIGHT)
    # then
    assert _logged_in(first)
    assert _logged_in(second)


def test_the_lock_holds_for_that_user_and_address_only(client, staff_user, superuser):
    # given: staff locked out from one address
    for _ in range(5):
        _login(client, WRONG)
    # when
    same_user_elsewhere = _login(client, RIGHT, ip="198.51.100.7")
    client.logout()
    other_user_same_address = _login(client, {"username": "admin", "password": "admin-password-1"})
    # then
    assert _logged_in(same_user_elsewhere)
    assert _logged_in(other_user_same_address)


def test_the_lock_lifts_after_the_cool_off(client, staff_user, settings):
    # given
    for _ in range(5):
        _login(client, WRONG)
    assert _login(client, RIGHT).status_code == 429
    # when: the cool-off has passed since the last failure
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    # then
    assert _logged_in(_login(client, RIGHT))


@override_settings(USE_X_FORWARDED_FOR=True)
def test_behind_the_proxy_the_address_it_saw_is_counted_not_a_forged_one(client, staff_user):
    # given: five failures from one client, each forging a different first X-Forwarded-For entry
    for index in range(5):
        _login(client, WRONG, ip="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}, 203.0.113.5")
    # when
    locked = _login(client, RIGHT, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5")
    other_client = _login(client, RIGHT, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    # then
    assert locked.status_code == 429
    assert _logged_in(other_client)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_without_the_setting_x_forwarded_for_is_ignored(client, staff_user):
    # given: a client rotating forged X-Forwarded-For values from one address
    for index in range(5):
        _login(client, WRONG, HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")
    # when
    sixth = _login(client, RIGHT, HTTP_X_FORWARDED_FOR="10.0.0.99")
    # then
    assert sixth.status_code == 429
