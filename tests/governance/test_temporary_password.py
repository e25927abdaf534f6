"""No e-mail on an intranet, so no "forgot my password" link: an administrator sets a one-time
temporary password in the admin (the users list's action), tells it to the user, and the user must
choose their own at the next sign-in before anything else. Audited like the other account changes."""

import re

import pytest
from django.urls import reverse

from governance.models import AuditEntry, User
from tests.base import PASSWORD, api_client

ACTION = "set_temporary_password"


def _reset(client, *users) -> dict[str, str]:
    """The admin's action on ``users``: the temporary password shown for each, by username."""
    response = client.post(
        "/admin/governance/user/",
        {"action": ACTION, "_selected_action": [u.pk for u in users]},
    )
    assert response.status_code == 200, response.status_code
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    return dict(re.findall(r'<tr class="temporary-password"><td>([^<]+)</td><td><code>([^<]+)</code>', page))


def test_an_administrator_sets_a_temporary_password_shown_once_and_audited(client, cast):
    from governance.services import user_token_issue

    token = user_token_issue(user=cast.analyst)
    client.force_login(cast.admin)
    shown = _reset(client, cast.analyst)
    temporary = shown["analyst"]
    assert len(temporary) >= 12
    cast.analyst.refresh_from_db()
    assert cast.analyst.must_change_password
    assert cast.analyst.check_password(temporary) and not cast.analyst.check_password(PASSWORD)
    # Setting a password ends the API token, as every way of setting one does.
    api = api_client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/areas/").status_code == 401
    [entry] = AuditEntry.objects.filter(action="password.reset", object_id=str(cast.analyst.pk))
    assert entry.actor == cast.admin and entry.after == {"must_change_password": True}
    assert temporary not in str(entry.before) + str(entry.after)
    # Shown on that answer only: the list afterwards does not have it.
    assert temporary not in client.get("/admin/governance/user/").content.decode()


def test_the_user_must_change_it_at_the_next_sign_in_before_anything_else(client, cast, settings):
    # The forgotten password's guesses locked the account: the reset ends the lockout too.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("governance-login"), {"username": "worker_a", "password": "wrong"})
    assert (
        client.post(reverse("governance-login"), {"username": "worker_a", "password": PASSWORD}).status_code
        == 429
    )
    client.force_login(cast.admin)
    temporary = _reset(client, cast.worker_a)["worker_a"]
    client.logout()
    login = client.post(reverse("governance-login"), {"username": "worker_a", "password": temporary})
    assert login.status_code == 302
    change = reverse("governance-password-change")
    for page in (reverse("governance-home"), reverse("governance-account"), reverse("grids-report")):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"] == change, page
    # The API, by the session: a 403 saying why, not a page.
    api = client.get("/api/v1/areas/")
    assert api.status_code == 403 and "temporary" in api.json()["detail"]
    form = client.get(change)
    assert form.status_code == 200 and "temporary password" in form.content.decode()
    assert "临时密码" in client.get(change, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # Not the temporary password again.
    same = client.post(
        change, {"old_password": temporary, "new_password1": temporary, "new_password2": temporary}
    )
    assert same.status_code == 400
    new = "a-new-pass-of-mine-2026"
    done = client.post(change, {"old_password": temporary, "new_password1": new, "new_password2": new})
    assert done.status_code == 302
    cast.worker_a.refresh_from_db()
    assert not cast.worker_a.must_change_password and cast.worker_a.check_password(new)
    assert client.get(reverse("governance-home")).status_code == 200
    assert AuditEntry.objects.filter(action="password.change", object_id=str(cast.worker_a.pk)).exists()


def test_signing_out_and_switching_the_language_stay_possible(client, cast):
    client.force_login(cast.admin)
    _reset(client, cast.worker_a)
    client.force_login(User.objects.get(pk=cast.worker_a.pk))
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    assert client.post(reverse("governance-logout")).status_code == 302
    assert client.get(reverse("governance-home"))["Location"].startswith(reverse("governance-login"))


def test_the_token_endpoint_refuses_a_temporary_password(client, cast):
    client.force_login(cast.admin)
    temporary = _reset(client, cast.analyst)["analyst"]
    response = api_client().post(
        "/api/v1/auth/token/", {"username": "analyst", "password": temporary}, format="json"
    )
    assert response.status_code == 401 and "temporary" in response.json()["detail"]


@pytest.mark.parametrize("own", [False, True])
def test_staff_who_keep_users_reset_neither_a_superuser_nor_themselves(client, cast, own):
    from django.contrib.auth.models import Permission

    clerk = User.objects.create_user("clerk", password="x-pass-2026", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(clerk)
    target = clerk if own else cast.admin
    response = client.post(
        "/admin/governance/user/", {"action": ACTION, "_selected_action": [target.pk]}, follow=True
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert not target.must_change_password
    assert not AuditEntry.objects.filter(action="password.reset").exists()
    # A user below them is theirs to reset.
    assert "worker_a" in _reset(client, cast.worker_a)


def test_staff_without_change_user_do_not_get_the_action(client, cast):
    from django.contrib.auth.models import Permission

    viewer = User.objects.create_user("viewer", password="x-pass-2026", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    page = client.get("/admin/governance/user/").content.decode()
    assert ACTION not in page
    client.post("/admin/governance/user/", {"action": ACTION, "_selected_action": [cast.worker_a.pk]})
    cast.worker_a.refresh_from_db()
    assert not cast.worker_a.must_change_password
