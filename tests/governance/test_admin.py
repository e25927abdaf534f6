"""The admin is no back door to personal data (DESIGN.md section 4): no model holding encrypted
personal data or its keyed hashes is registered, directly or as an inline, and no registered admin
lists, searches or filters through one. Reveals go only through the logged pages and API."""

from django.contrib import admin

from governance.pii import EncryptedTextField
from tests.base import logged_reveal


def _personal(model) -> set[str]:
    return {
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, EncryptedTextField) or (f.concrete and f.name in ("id_hash", "phone_hash"))
    }


def _relations_to_personal(model) -> set[str]:
    """Names of the reverse relations from ``model`` to a model with personal fields (``parties``,
    ``petitioners``): the way into them from a case or a petition."""
    return {
        f.get_accessor_name() if f.auto_created and not f.concrete else f.name
        for f in model._meta.get_fields()
        if f.is_relation and f.related_model is not None and _personal(f.related_model)
    }


def test_no_model_with_personal_data_is_registered_in_the_admin(db):
    for model, model_admin in admin.site._registry.items():
        assert not _personal(model), model
        for inline in model_admin.inlines:
            assert not _personal(inline.model), (model, inline.model)


def test_no_admin_lists_searches_or_filters_through_personal_data(db):
    checked = 0
    for model, model_admin in admin.site._registry.items():
        ways_in = _relations_to_personal(model)
        names = [
            *model_admin.search_fields,
            *[
                f if isinstance(f, str) else f[0]
                for f in model_admin.list_filter
                if isinstance(f, str | tuple)
            ],
            *[f for f in model_admin.list_display if isinstance(f, str)],
        ]
        for name in names:
            first = name.lstrip("^=@").split("__")[0]
            assert first not in ways_in, (model, name)
        checked += bool(ways_in)
    assert checked >= 2  # the dispute case and the petition were among them


def test_every_model_the_admin_shows_has_a_name_of_its_own(db):
    """No row reads "PetitionEvent object (12)": each registered model and inline names its objects."""
    from django.db import models

    shown = {m for m, ma in admin.site._registry.items()} | {
        inline.model for ma in admin.site._registry.values() for inline in ma.inlines
    }
    assert [m._meta.label for m in shown if m.__str__ is models.Model.__str__] == []


def test_every_app_and_model_has_a_translated_name(db):
    """The governance app fell back to a plain AppConfig ("Governance" in every language), and four
    models had only their class names ("sequence counter") in the permission lists and the log."""
    from django.apps import apps
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(apps.get_app_config("governance").verbose_name) == "基础管理"
        ours = [
            m
            for m in apps.get_models()
            if m._meta.app_label in {"governance", "grids", "mediation", "petitions", "dashboards"}
        ]
        untranslated = [m._meta.label for m in ours if str(m._meta.verbose_name).isascii()]
    assert untranslated == []


def test_the_projects_catalogue_does_not_retranslate_djangos_words(client, cast, settings):
    """Our photo's "content type" (文件类型) and a party's "Name" (姓名) overrode Django's content types
    and celery-beat's task name wherever the project's catalogue was loaded."""
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    log = client.get("/admin/admin/logentry/").content.decode()
    assert "文件类型" not in log and "内容类型" in log
    task = client.get("/admin/django_celery_beat/periodictask/add/").content.decode()
    assert "姓名" not in task
    index = client.get("/admin/").content.decode()
    assert "模型名称" in index and "Governance" not in index


def _changelist_queries(client, model) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_area_and_membership_lists_take_no_query_per_row(client, cast):
    from governance.models import Area, Department, Membership, Role
    from tests.base import make_area, make_user

    client.force_login(cast.admin)
    before = {model: _changelist_queries(client, model) for model in (Area, Membership)}
    for i in range(1, 6):  # more communities under another street, each with a handler in a department
        community = make_area(
            f"34010300100{i + 1}", f"社区{i}", "community", cast.street_b1, (117.1, 31.8, 117.12, 31.81)
        )
        department = Department.objects.create(name=f"工作站{i}", area=community)
        make_user(f"handler_{i}", Role.HANDLER, community, department)
    assert {model: _changelist_queries(client, model) for model in (Area, Membership)} == before


def test_every_admin_list_search_filter_and_sort_loads(client, cast):
    """Each registered model's list, with a search, each filter link it offers and each sortable
    column, answers 200 for a superuser (a filter or a column through a missing relation is a 500)."""
    import html
    import re

    client.force_login(cast.admin)
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        panel = re.search(r'id="changelist-filter"(.*?)</nav>', body, re.S)
        links = (
            {html.unescape(h) for h in re.findall(r'href="(\?[^"]*)"', panel.group(1))} if panel else set()
        )
        links |= {f"?o={i}" for i in range(1, len(model_admin.list_display) + 1)}
        if model_admin.search_fields:
            links.add("?q=%E5%BC%A0")
        for link in sorted(links):
            assert client.get(url + link).status_code == 200, url + link


def test_only_staff_reach_the_admin(client, cast):
    client.force_login(cast.analyst)
    response = client.get("/admin/governance/membership/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_every_admin_change_is_logged_and_the_log_is_read_only(client, cast):
    from django.contrib.admin.models import LogEntry

    from governance.models import Department

    client.force_login(cast.admin)
    response = client.post(
        f"/admin/governance/department/{cast.police.pk}/change/",
        {"name": "公安分局治安大队", "kind": "functional", "area": cast.district_a.pk, "is_active": "on"},
    )
    assert response.status_code == 302
    assert Department.objects.get(pk=cast.police.pk).name == "公安分局治安大队"
    log = client.get("/admin/admin/logentry/")
    assert log.status_code == 200 and "公安分局治安大队" in log.content.decode()
    assert client.get("/admin/admin/logentry/add/").status_code == 403
    entry = LogEntry.objects.get()
    assert client.post(f"/admin/admin/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_scheduled_job_form_carries_no_inline_script_the_policy_blocks(client, cast):
    """celery-beat's form added an inline script, which the Content-Security-Policy refused on every
    visit (a violation in the browser's console); the schedule in words is the read-only row instead."""
    from django_celery_beat.models import PeriodicTask

    client.force_login(cast.admin)
    task = PeriodicTask.objects.filter(crontab__isnull=False).first()
    html = client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/").content.decode()
    assert "periodic-task-overrides" not in html and "<script>" not in html
    from governance.beat_admin import crontab_described

    assert crontab_described(task.crontab) in html


def test_the_scheduled_jobs_admin_speaks_chinese(client, cast, settings):
    """celery-beat's zh_Hans catalogue lacks (or has only as fuzzy) the periodic task form's section
    titles, its actions' messages and the crontab's help texts: half the page was English. The
    vendor catalogue (locale/vendor) carries them."""
    import re

    from django_celery_beat.models import PeriodicTask

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    task = PeriodicTask.objects.filter(crontab__isnull=False).first()
    html = client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/").content.decode()
    assert re.findall(r'class="fieldset-heading">([^<]*)<', html) == ["计划", "参数", "执行选项"]
    crontab = client.get("/admin/django_celery_beat/crontabschedule/add/").content.decode()
    assert "计划执行的月份（1-12）" in crontab and "星期日为 0 或 7" in crontab
    assert "Cron Months" not in crontab and "Cron Days" not in crontab
    done = client.post(
        "/admin/django_celery_beat/periodictask/",
        {"action": "disable_tasks", "_selected_action": [task.pk]},
        follow=True,
    )
    assert "已成功禁用 1 个任务" in done.content.decode()
    assert not PeriodicTask.objects.get(pk=task.pk).enabled


def test_residents_matters_and_their_logs_are_in_the_admin_for_superusers_only(client, cast):
    """The admin's permissions are city-wide: a district's staff member given "view petition" (to
    keep the holiday calendar, say, with a few more boxes ticked) read every district's petitions,
    cases and incidents there, and who revealed whose data. Only superusers see them in the admin."""
    from django.contrib.auth.models import Permission

    from governance.models import User

    models = ["grids.incident", "grids.incidentphoto", "mediation.disputecase", "petitions.petition"]
    models += ["governance.personaldataaccess", "governance.auditentry"]
    # And the schemes that score the areas: a district's clerk could reweigh the one scoring theirs.
    models += ["dashboards.assessmentscheme", "dashboards.assessmentrun"]
    clerk = User.objects.create_user("clerk", password="x-pass-2026", is_staff=True)
    for label in models:
        app, model = label.split(".")
        clerk.user_permissions.add(
            *Permission.objects.filter(content_type__app_label=app, content_type__model=model)
        )
    clerk.user_permissions.add(Permission.objects.get(codename="change_holiday"))
    client.force_login(clerk)
    for label in models:
        url = "/admin/{}/{}/".format(*label.split("."))
        assert client.get(url).status_code == 403, url
    assert client.get("/admin/governance/holiday/").status_code == 200  # what staff keep is theirs
    index = client.get("/admin/").content.decode()
    assert "/admin/petitions/petition/" not in index and "/admin/governance/holiday/" in index
    client.force_login(cast.admin)  # a superuser
    for label in models:
        assert client.get("/admin/{}/{}/".format(*label.split("."))).status_code == 200, label


def test_the_admin_links_the_sites_icon_and_its_own_rules(client, cast):
    # Without a link every admin page asked for /favicon.ico, a 404 in the console; and a scheme's
    # ten-column items made the whole page scroll sideways (governance/admin.css).
    client.force_login(cast.admin)
    page = client.get("/admin/").content.decode()
    assert "favicon.svg" in page and "governance/admin.css" in page
    assert client.get("/static/governance/admin.css").status_code == 200


def test_staff_who_keep_users_give_no_privileges(client, cast):
    # A clerk with "change user" ticked "superuser" on their own account (Django's default), and with
    # it undid every limit of the admin.
    from django.contrib.auth.models import Permission

    from governance.models import User

    clerk = User.objects.create_user("clerk", password="x-pass-2026", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client.force_login(clerk)
    page = client.get(f"/admin/governance/user/{clerk.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert not {"is_superuser", "is_staff", "user_permissions", "groups"} & set(form.fields)
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update({"is_superuser": "on", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"})
    client.post(f"/admin/governance/user/{clerk.pk}/change/", data)
    clerk.refresh_from_db()
    assert not clerk.is_superuser
    # A superuser's account is read, not changed (its password, its flags).
    shown = client.get(f"/admin/governance/user/{cast.admin.pk}/change/")
    assert shown.status_code == 200 and not shown.context["has_change_permission"]
    assert (
        client.post(f"/admin/governance/user/{cast.admin.pk}/change/", {"username": "x"}).status_code == 403
    )


def test_the_admin_refuses_to_move_a_department_to_another_area(client, cast):
    # Moved to district B, the police department took district A's people (their roles held at A)
    # and items along: B's centre saw A's items, and B's items dispatched there had nobody to see them.
    from governance.models import Department

    client.force_login(cast.admin)
    response = client.post(
        f"/admin/governance/department/{cast.police.pk}/change/",
        {"name": "公安分局（迁）", "kind": "functional", "area": cast.district_b.pk, "is_active": "on"},
    )
    assert response.status_code == 200 and "A department keeps its area" in response.content.decode()
    police = Department.objects.get(pk=cast.police.pk)
    assert police.area_id == cast.district_a.pk and police.name == "公安分局"
    created = Department(name="公安分局新址", kind="functional", area=cast.district_b)
    created.full_clean()  # a new one in the other area is the way


def _membership_clerk():
    from django.contrib.auth.models import Permission

    from governance.models import User

    clerk = User.objects.create_user("clerk", password="x-pass-2026", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_user", "change_user", "add_user", "view_membership", "add_membership"]
            + ["change_membership", "delete_membership", "view_area"]
        )
    )
    return clerk


def test_staff_who_keep_memberships_give_themselves_no_role(client, cast):
    # A clerk given "add membership" made themselves a city-wide handler, and read every incident.
    from governance.models import Membership

    clerk = _membership_clerk()
    client.force_login(clerk)
    before = Membership.objects.count()
    response = client.post(
        "/admin/governance/membership/add/", {"user": clerk.pk, "role": "handler", "area": cast.city.pk}
    )
    assert response.status_code == 200
    assert "You may not give or change your own roles" in response.content.decode()
    assert Membership.objects.count() == before and not clerk.memberships.exists()
    # Nor through their own user page: its memberships are shown, not offered for change.
    Membership.objects.create(user=clerk, role="analyst", area=cast.district_a)
    own = client.get(f"/admin/governance/user/{clerk.pk}/change/")
    inline = own.context["inline_admin_formsets"][0]
    assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)
    mine = clerk.memberships.get()
    assert (
        client.get(f"/admin/governance/membership/{mine.pk}/change/").context["has_change_permission"]
        is False
    )
    assert (
        client.post(
            f"/admin/governance/membership/{mine.pk}/change/",
            {"user": clerk.pk, "role": "handler", "area": cast.city.pk},
        ).status_code
        == 403
    )
    assert clerk.memberships.get().role == "analyst"
    # Another person's role is theirs to give, as before.
    response = client.post(
        "/admin/governance/membership/add/",
        {"user": cast.analyst.pk, "role": "handler", "area": cast.district_a.pk},
    )
    assert response.status_code == 302 and cast.analyst.memberships.filter(role="handler").exists()


def test_the_administrator_role_is_the_superusers_to_give_change_or_take(client, cast):
    from governance.models import Membership

    clerk = _membership_clerk()
    client.force_login(clerk)
    response = client.post(
        "/admin/governance/membership/add/", {"user": cast.analyst.pk, "role": "admin", "area": cast.city.pk}
    )
    assert "Only a superuser gives, changes or takes the administrator role" in response.content.decode()
    assert not cast.analyst.memberships.filter(role="admin").exists()
    # Given on a user's page, as an inline row: refused the same way.
    page = client.get(f"/admin/governance/user/{cast.analyst.pk}/change/")
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    existing = list(cast.analyst.memberships.all())
    data.update(
        {"memberships-TOTAL_FORMS": str(len(existing) + 1), "memberships-INITIAL_FORMS": str(len(existing))}
    )
    for i, m in enumerate(existing):
        data.update(
            {
                f"memberships-{i}-id": m.pk,
                f"memberships-{i}-user": cast.analyst.pk,
                f"memberships-{i}-role": m.role,
            }
        )
        data.update(
            {f"memberships-{i}-area": m.area_id, f"memberships-{i}-department": m.department_id or ""}
        )
    n = len(existing)
    data.update({f"memberships-{n}-user": cast.analyst.pk, f"memberships-{n}-role": "admin"})
    data.update({f"memberships-{n}-area": cast.city.pk})
    response = client.post(f"/admin/governance/user/{cast.analyst.pk}/change/", data)
    assert response.status_code == 200
    assert "Only a superuser gives, changes or takes the administrator role" in response.content.decode()
    assert not cast.analyst.memberships.filter(role="admin").exists()
    # An existing administrator's membership is neither changed nor deleted by the clerk, one by one
    # or in the bulk delete.
    held = Membership.objects.filter(role="admin").first() or Membership.objects.create(
        user=cast.analyst, role="admin", area=cast.district_a
    )
    assert client.post(f"/admin/governance/membership/{held.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(
        "/admin/governance/membership/",
        {"action": "delete_selected", "_selected_action": [held.pk], "post": "yes"},
    )
    assert Membership.objects.filter(pk=held.pk, role="admin").exists()
    # A superuser gives it.
    client.force_login(cast.admin)
    response = client.post(
        "/admin/governance/membership/add/", {"user": cast.analyst.pk, "role": "admin", "area": cast.city.pk}
    )
    assert (
        response.status_code == 302 and cast.analyst.memberships.filter(role="admin", area=cast.city).exists()
    )


def test_every_change_of_a_users_roles_areas_and_privileges_is_audited_with_before_and_after(client, cast):
    """Django's admin log says "Changed role for membership …": not what the role or area was, nor
    that a membership made through a user's page existed at all once deleted. Who may see what is
    the heart of the access policy, so each change is an audit entry with the state before and after."""
    from governance.models import AuditEntry, Membership
    from tests.governance.test_auth import _user_change_data

    client.force_login(cast.admin)
    response = client.post(
        "/admin/governance/membership/add/",
        {"user": cast.analyst.pk, "role": "handler", "area": cast.district_a.pk},
    )
    assert response.status_code == 302
    added = cast.analyst.memberships.get(role="handler")
    state = {"user": "analyst", "role": "handler", "area": cast.district_a.code, "department": None}
    entry = AuditEntry.objects.get(action="membership.add")
    assert (entry.actor, entry.before, entry.after) == (cast.admin, None, {**state, "is_head": False})
    # Through the user's page: the area changed, then the membership deleted.
    data = _user_change_data(cast.analyst)
    index = next(k for k, v in data.items() if k.endswith("-id") and v == str(added.pk)).split("-")[1]
    data[f"memberships-{index}-area"] = str(cast.street_a1.pk)
    assert client.post(f"/admin/governance/user/{cast.analyst.pk}/change/", data).status_code == 302
    entry = AuditEntry.objects.get(action="membership.change")
    assert entry.before["area"] == cast.district_a.code and entry.after["area"] == cast.street_a1.code
    data[f"memberships-{index}-DELETE"] = "on"
    assert client.post(f"/admin/governance/user/{cast.analyst.pk}/change/", data).status_code == 302
    assert not Membership.objects.filter(pk=added.pk).exists()
    entry = AuditEntry.objects.get(action="membership.delete")
    assert entry.before["area"] == cast.street_a1.code and entry.after is None
    assert entry.object_type == "governance.membership" and entry.object_id == str(added.pk)
    # The privileges of the account itself.
    data = _user_change_data(cast.analyst, is_staff="on")
    assert client.post(f"/admin/governance/user/{cast.analyst.pk}/change/", data).status_code == 302
    entry = AuditEntry.objects.get(action="user.change")
    assert entry.before == {"is_active": True, "is_staff": False, "is_superuser": False}
    assert entry.after == {"is_active": True, "is_staff": True, "is_superuser": False}
    # The membership list's bulk delete too.
    other = Membership.objects.create(user=cast.analyst, role="mediator", area=cast.grid_b)
    response = client.post(
        "/admin/governance/membership/",
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )
    assert response.status_code == 302 and not Membership.objects.filter(pk=other.pk).exists()
    assert AuditEntry.objects.filter(action="membership.delete").count() == 2


def test_the_admin_finds_a_person_by_the_name_they_are_known_by(client, cast):
    """Usernames are ids ("centre_340102001002", "worker_a"); people are known by their display
    names (网格员 王小明). The admin searched the users, memberships, tokens and logs by username
    only (and Django's empty first and last names): searching 王小明 found no one."""
    from django.contrib.admin.models import CHANGE, LogEntry

    from governance.models import AuditEntry, Membership, PersonalDataAccess, User
    from governance.services import audit, user_token_issue

    User.objects.filter(pk=cast.worker_a.pk).update(display_name="网格员 王小明")
    User.objects.filter(pk=cast.admin.pk).update(display_name="系统管理员 赵敏")
    user_token_issue(user=cast.worker_a)
    audit(actor=cast.admin, action="password.reset", obj=cast.worker_a)
    logged_reveal(cast.worker_a, "name", "核实", record="INC-1", kind="grids.incident")
    LogEntry.objects.log_actions(user_id=cast.admin.pk, queryset=[cast.worker_a], action_flag=CHANGE)
    client.force_login(cast.admin)
    searches = {
        "/admin/governance/user/": ("王小明", {cast.worker_a.pk}),
        "/admin/governance/membership/": (
            "王小明",
            set(Membership.objects.filter(user=cast.worker_a).values_list("pk", flat=True)),
        ),
        # A token is the admin's object by its user's id (DRF's TokenProxy.pk).
        "/admin/governance/apitoken/": ("王小明", {cast.worker_a.pk}),
        "/admin/governance/personaldataaccess/": (
            "王小明",
            set(PersonalDataAccess.objects.values_list("pk", flat=True)),
        ),
        "/admin/governance/auditentry/": (
            "赵敏",
            set(AuditEntry.objects.filter(actor=cast.admin).values_list("pk", flat=True)),
        ),
        "/admin/admin/logentry/": ("赵敏", set(LogEntry.objects.values_list("pk", flat=True))),
    }
    for url, (term, expected) in searches.items():
        response = client.get(url, {"q": term})
        assert response.status_code == 200, url
        assert expected and {row.pk for row in response.context["cl"].result_list} == expected, url


def _new_user(**changes) -> dict:
    """What the admin's "add user" page posts: the account and one membership."""
    return {
        "username": "new_worker",
        "display_name": "网格员 孙丽",
        "usable_password": "true",
        "password1": "Grid-Start-2026!",
        "password2": "Grid-Start-2026!",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-role": "grid_worker",
        "memberships-0-is_head": "",
        **changes,
    }


def test_a_user_added_in_the_admin_is_named_and_chooses_their_own_password(client, cast, settings):
    """The "add user" page asked only for a username and a password: the new user had no name to
    be known by until the administrator opened the account again, and kept the password the
    administrator had typed (and knows) for as long as they did not change it themselves. It is a
    first password like a temporary one: the user chooses their own at the first sign-in."""
    from governance.models import AuditEntry, User

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    page = client.get("/admin/governance/user/add/").content.decode()
    assert 'name="display_name"' in page
    response = client.post("/admin/governance/user/add/", _new_user(**{"memberships-0-area": cast.grid_a.pk}))
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="new_worker")
    assert user.display_name == "网格员 孙丽" and user.must_change_password
    assert list(user.memberships.values_list("role", "area")) == [("grid_worker", cast.grid_a.pk)]
    assert AuditEntry.objects.filter(action="membership.add", actor=cast.admin).count() == 1
    # Signed in with it, the new user is sent to choose their own password first.
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/accounts/password/")


def test_a_user_the_admin_cannot_add_is_not_saved_and_the_field_is_named(client, cast, settings):
    from governance.models import User

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    refused = {
        "password2": "something-else-2026",
        "memberships-0-area": cast.community_a1a.pk,  # a grid worker placed at a community
    }
    for name, value in refused.items():
        data = _new_user(**{"memberships-0-area": cast.grid_a.pk, name: value})
        response = client.post("/admin/governance/user/add/", data)
        assert response.status_code == 200, name
        form = response.context["adminform"].form
        inline = response.context["inline_admin_formsets"][0].formset
        errors = {**form.errors, **(inline.forms[0].errors if inline.forms else {})}
        assert name.removeprefix("memberships-0-") in errors, (name, errors)
        assert not User.objects.filter(username="new_worker").exists()


def test_a_new_area_s_boundary_box_starts_empty(client, cast, settings):
    """The boundary box of a new area (and of one without a boundary) read "null": a GeoJSON pasted
    after it was refused as invalid JSON. It is empty, and says what it takes; left empty it saves
    no boundary."""
    import re

    from governance.models import Area

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    page = client.get("/admin/governance/area/add/").content.decode()
    box = re.search(r'<textarea name="boundary"[^>]*>(.*?)</textarea>', page, re.S)
    assert box and box.group(1).strip() == ""
    assert "经度在前" in page
    polygon = '{"type":"Polygon","coordinates":[[[117,31.8],[117.001,31.8],[117.001,31.801],[117,31.8]]]}'
    data = {
        "code": cast.community_a1a.code + "009",
        "name": "新网格",
        "level": "grid",
        "parent": cast.community_a1a.pk,
        "population": 0,
        "households": 0,
        "boundary": "",
    }
    assert client.post("/admin/governance/area/add/", data).status_code == 302
    added = Area.objects.get(code=data["code"])
    assert added.boundary is None
    page = client.get(f"/admin/governance/area/{added.pk}/change/").content.decode()
    assert re.search(r'<textarea name="boundary"[^>]*>\s*</textarea>', page)
    data["boundary"] = polygon
    response = client.post(f"/admin/governance/area/{added.pk}/change/", data)
    assert response.status_code == 302
    added.refresh_from_db()
    assert added.boundary["type"] == "Polygon" and added.centroid_lat is not None


def test_a_handler_put_in_a_department_of_a_centre_without_its_own_handlers_is_warned(client, cast, settings):
    # A new city's administrator put the community's handler in its "社区综治中心" department: the
    # role worked for that department, the community's new reports reached nobody and the handler's
    # inbox stayed empty. The membership is saved (a department's people are handlers too), with a
    # warning naming the area; a centre handler (no department) draws none.
    from governance.models import Department, Membership, User

    settings.LANGUAGE_CODE = "en"
    centre = Department.objects.create(name="社区综治中心", kind="centre", area=cast.community_a1b)
    newcomer = User.objects.create_user("newcomer", password="x-pass-2026")
    client.force_login(cast.admin)
    form = client.get("/admin/governance/membership/add/").content.decode()
    assert "Leave it empty for the centre" in form
    response = client.post(
        "/admin/governance/membership/add/",
        {"user": newcomer.pk, "role": "handler", "area": cast.community_a1b.pk, "department": centre.pk},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert newcomer.memberships.filter(department=centre).exists()
    warned = [m for m in shown if "has no handler of its own centre" in m]
    assert len(warned) == 1 and warned[0].startswith("园丁社区 has no handler"), shown
    # Through the user's page (the memberships inline) alike.
    from tests.governance.test_auth import _user_change_data

    other = User.objects.create_user("other", password="x-pass-2026")
    data = _user_change_data(other) | {
        "memberships-TOTAL_FORMS": "1",
        "memberships-0-role": "handler",
        "memberships-0-area": str(cast.community_a1b.pk),
        "memberships-0-department": str(centre.pk),
    }
    response = client.post(f"/admin/governance/user/{other.pk}/change/", data, follow=True)
    assert other.memberships.filter(department=centre).exists(), response.content.decode()[:3000]
    assert any("has no handler of its own centre" in str(m) for m in response.context["messages"])
    # With a handler of the centre itself, no warning.
    Membership.objects.create(
        user=User.objects.create_user("centre_h"), role="handler", area=cast.community_a1b
    )
    third = User.objects.create_user("third", password="x-pass-2026")
    response = client.post(
        "/admin/governance/membership/add/",
        {"user": third.pk, "role": "handler", "area": cast.community_a1b.pk, "department": centre.pk},
        follow=True,
    )
    assert third.memberships.exists()
    assert not any("has no handler of its own centre" in str(m) for m in response.context["messages"])


def test_a_memberships_area_is_chosen_by_its_code_or_name_not_a_database_id(client, cast):
    # A new city's administrator giving 6,000 grid workers their grids had a box that took the
    # area's database id ("14"), which no one knows: a grid code typed there was "not one of the
    # available choices". The area is picked by typing its code or name, on the membership page and
    # on a user's page alike.
    import json
    import re

    client.force_login(cast.admin)
    for url in (
        "/admin/governance/membership/add/",
        "/admin/governance/user/add/",
        "/admin/governance/department/add/",
        "/admin/mediation/mediationorganisation/add/",
        "/admin/dashboards/assessmentscheme/add/",
    ):
        page = client.get(url).content.decode()
        assert re.search(r'<select[^>]*name="(memberships-0-)?area"[^>]*admin-autocomplete', page), url
    found = client.get(
        "/admin/autocomplete/",
        {
            "term": cast.grid_a.code,
            "app_label": "governance",
            "model_name": "membership",
            "field_name": "area",
        },
    )
    assert found.status_code == 200
    assert [r["id"] for r in json.loads(found.content)["results"]] == [str(cast.grid_a.pk)]
    by_name = client.get(
        "/admin/autocomplete/",
        {
            "term": cast.grid_a.name,
            "app_label": "governance",
            "model_name": "membership",
            "field_name": "area",
        },
    )
    assert str(cast.grid_a.pk) in [r["id"] for r in json.loads(by_name.content)["results"]]


def test_residents_matters_are_filtered_in_the_address_by_no_free_text(client, cast):
    """Django lets a list's address filter by any of the model's own fields, listed filter or not:
    ``?description__icontains=13812345678`` found the incidents, cases and petitions whose texts name
    that number, a search of free text the search box does not offer. Each superusers' admin (the
    residents' matters and their logs) refuses a filter on its free texts (400), and keeps its own."""
    from django.db import models

    from governance.admin import SuperusersOnly

    client.force_login(cast.admin)
    checked = set()
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, SuperusersOnly):
            continue
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        offered = {
            (f if isinstance(f, str) else f[0] if isinstance(f, tuple) else f.parameter_name).split("__")[0]
            for f in model_admin.list_filter
        } | ({model_admin.date_hierarchy} if model_admin.date_hierarchy else set())
        for field in model._meta.concrete_fields:
            texts = (models.CharField, models.TextField, models.JSONField)
            if isinstance(field, texts) and not field.choices and field.name not in offered:
                response = client.get(url, {f"{field.name}__icontains": "138"})
                assert response.status_code == 400, (url, field.name)
                checked.add(f"{model._meta.label}.{field.name}")
        for name in offered:
            assert client.get(url, {f"{name}__isnull": "False"}).status_code == 200, (url, name)
    assert {
        "grids.Incident.description",
        "mediation.DisputeCase.description",
        "petitions.Petition.content",
    } <= checked


def test_the_access_log_shows_the_numbers_in_a_reveals_reason_masked(client, cast):
    """An officer may write the number they revealed into the reason ("回电13812345678核实"): the log,
    read by superusers who may reveal nobody, showed it whole, a way round the reveal it records."""
    from governance.models import PersonalDataAccess

    entry = logged_reveal(cast.admin, "phone,id_number", "回电13812345678核实身份340104199003071235")
    client.force_login(cast.admin)
    for url in (
        "/admin/governance/personaldataaccess/",
        f"/admin/governance/personaldataaccess/{entry.pk}/change/",
    ):
        body = client.get(url).content.decode()
        assert "回电138****5678核实身份3401**********1235" in body, url
        assert "13812345678" not in body and "340104199003071235" not in body, url
    assert PersonalDataAccess.objects.count() == 1  # reading the log reveals nothing


def test_a_refused_free_text_filter_is_a_page_that_names_the_field_and_the_search_to_use(client, cast):
    """A filter on a free text (``?reason__icontains=138``, a link kept from before the rule or typed
    by hand) was Django's bare "Bad Request (400)" in English: no field named, nothing to do next. It
    is the admin's own page in the site's language: which field, why, and the search the list offers
    instead (by number), still 400, with no record listed."""
    from django.contrib.auth.models import Permission

    from governance.models import User

    entry = logged_reveal(cast.admin, "phone", "回电13812345678核实")
    client.force_login(cast.admin)
    log = "/admin/governance/personaldataaccess/"
    client.cookies["django_language"] = "zh-hans"
    response = client.get(log, {"reason__icontains": "138", "object_type__exact": entry.object_type})
    assert response.status_code == 400
    assert "admin/governance/refused_lookup.html" in [t.name for t in response.templates]
    body = response.content.decode()
    assert "不能按“理由”筛选" in body, body
    assert "请在搜索框中按案卷、用户名、显示名称搜索。" in body
    assert entry.record not in body and "13812345678" not in body
    assert 'name="q"' in body and f'action="{log}"' in body  # the search it names, on the page

    client.cookies["django_language"] = "en"
    body = client.get(log, {"reason__icontains": "138"}).content.decode()
    assert "cannot be filtered by “reason”" in body
    assert "Search by record, username, display name in the search box" in body
    # A list with its own help under the search box says that.
    incidents = client.get("/admin/grids/incident/", {"description__icontains": "138"})
    assert incidents.status_code == 400
    assert "cannot be filtered by “description”" in incidents.content.decode()
    assert "Search by incident number." in incidents.content.decode()

    # Its filters still work; staff who may not see the list are refused as before, told nothing.
    assert client.get(log, {"object_type__exact": entry.object_type}).status_code == 200
    keeper = User.objects.create_user("keeper", password="x-pass-2026", is_staff=True)
    keeper.user_permissions.add(Permission.objects.get(codename="view_personaldataaccess"))
    client.force_login(keeper)
    refused = client.get(log, {"reason__icontains": "138"})
    assert refused.status_code == 403
    assert "admin/governance/refused_lookup.html" not in [t.name for t in refused.templates]


def test_a_users_page_asks_for_the_name_they_are_known_by_first_and_not_for_unused_names(client, cast):
    """The platform names people by their display name (网格员 王小明); the user's page opened on
    "Personal info" asking for a first and last name that nothing shows, and kept the display name
    at the bottom, under "Profile": an administrator renaming someone filled in the wrong boxes."""
    import re

    from governance.models import User
    from tests.governance.test_auth import _user_change_data

    client.force_login(cast.admin)
    url = f"/admin/governance/user/{cast.worker_a.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="first_name"' not in page and 'name="last_name"' not in page
    names = re.findall(r'<(?:input|select|textarea)[^>]*name="([a-z_]+)"', page)
    assert names.index("display_name") < names.index("is_active"), names
    data = _user_change_data(cast.worker_a)
    response = client.post(url, {**data, "display_name": "网格员 孙丽"})
    assert response.status_code == 302
    assert User.objects.get(pk=cast.worker_a.pk).display_name == "网格员 孙丽"
    # Refused (a username another account bears in another case): named, nothing saved.
    response = client.post(url, {**data, "display_name": "网格员 周强", "username": "WORKER_B"})
    assert response.status_code == 200 and "username" in response.context["adminform"].form.errors
    assert User.objects.get(pk=cast.worker_a.pk).display_name == "网格员 孙丽"


def test_a_memberships_department_is_chosen_by_its_name_and_area_not_a_database_id(client, cast):
    """A department liaison's department was a box for its database id ("37"), which nobody knows,
    and departments of the same name sit in every district (公安分局): it is picked by typing its name
    or its area's, each offered with its area, in one query whatever their number."""
    import json
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.models import Department

    police_a, police_b = cast.police, cast.police_b  # 公安分局 of district A and of district B
    client.force_login(cast.admin)
    for url in ("/admin/governance/membership/add/", "/admin/governance/user/add/"):
        page = client.get(url).content.decode()
        assert re.search(r'<select[^>]*name="(memberships-0-)?department"[^>]*admin-autocomplete', page), url
    query = {"app_label": "governance", "model_name": "membership", "field_name": "department"}
    client.get("/admin/autocomplete/", {**query, "term": "公安"})  # warm up
    with CaptureQueriesContext(connection) as queries:
        found = client.get("/admin/autocomplete/", {**query, "term": "公安"})
    results = {r["id"]: r["text"] for r in json.loads(found.content)["results"]}
    assert results == {
        str(police_a.pk): f"公安分局 ({cast.district_a.name})",
        str(police_b.pk): f"公安分局 ({cast.district_b.name})",
    }
    Department.objects.create(name="公安分局", area=cast.city)
    with CaptureQueriesContext(connection) as again:
        client.get("/admin/autocomplete/", {**query, "term": "公安"})
    assert len(again) == len(queries)
    by_area = client.get("/admin/autocomplete/", {**query, "term": cast.district_b.name})
    assert [r["id"] for r in json.loads(by_area.content)["results"]] == [str(police_b.pk)]
    # Saved by it; a department that is not there is named, nothing saved.
    added = client.post(
        "/admin/governance/membership/add/",
        {"user": cast.analyst.pk, "role": "handler", "area": cast.district_b.pk, "department": police_b.pk},
    )
    assert added.status_code == 302
    assert cast.analyst.memberships.get(role="handler").department == police_b
    before = cast.outsider.memberships.count()
    refused = client.post(
        "/admin/governance/membership/add/",
        {"user": cast.outsider.pk, "role": "handler", "area": cast.district_b.pk, "department": 999999},
    )
    assert refused.status_code == 200 and "department" in refused.context["adminform"].form.errors
    assert cast.outsider.memberships.count() == before


def test_a_memberships_user_is_chosen_by_typing_their_name_not_a_database_id(client, cast):
    """The membership page's user was a box for the user's database id ("412"), with a magnifier
    opening a second window to look it up: the user is picked by typing their username or display
    name, each offered with both (two 网格员 王芳 are told apart), in one query whatever their number."""
    import json
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.models import Membership, User

    client.force_login(cast.admin)
    page = client.get("/admin/governance/membership/add/").content.decode()
    assert re.search(r'<select[^>]*name="user"[^>]*admin-autocomplete', page)
    query = {"app_label": "governance", "model_name": "membership", "field_name": "user"}
    name = "网格员 王芳"
    User.objects.filter(pk=cast.worker_a.pk).update(display_name=name)
    client.get("/admin/autocomplete/", {**query, "term": name})  # warm up
    with CaptureQueriesContext(connection) as queries:
        found = client.get("/admin/autocomplete/", {**query, "term": name})
    results = {r["id"]: r["text"] for r in json.loads(found.content)["results"]}
    assert results[str(cast.worker_a.pk)] == f"{name} ({cast.worker_a.username})"
    namesake = User.objects.create_user(username="namesake_1", password="x", display_name=name)
    User.objects.create_user(username="namesake_2", password="x", display_name=name)
    with CaptureQueriesContext(connection) as again:
        more = client.get("/admin/autocomplete/", {**query, "term": name})
    assert len(again) == len(queries)
    assert json.loads(more.content)["results"] and str(namesake.pk) in {
        r["id"] for r in json.loads(more.content)["results"]
    }
    by_username = client.get("/admin/autocomplete/", {**query, "term": "namesake_1"})
    assert [r["text"] for r in json.loads(by_username.content)["results"]] == [f"{name} (namesake_1)"]
    # Saved by it, and its page shows the user so named; a user who is not there is named, nothing saved.
    added = client.post(
        "/admin/governance/membership/add/",
        {"user": namesake.pk, "role": "analyst", "area": cast.district_b.pk},
    )
    assert added.status_code == 302
    membership = namesake.memberships.get()
    page = client.get(f"/admin/governance/membership/{membership.pk}/change/").content.decode()
    assert f'<option value="{namesake.pk}" selected>{name} (namesake_1)</option>' in page
    refused = client.post(
        "/admin/governance/membership/add/",
        {"user": 999999, "role": "analyst", "area": cast.district_b.pk},
    )
    assert refused.status_code == 200 and "user" in refused.context["adminform"].form.errors
    assert not Membership.objects.filter(user_id=999999).exists()


def test_a_signed_in_user_without_admin_access_is_told_so_not_asked_to_sign_in_again(client, cast, settings):
    """A city leader (no admin access) following a link to the admin got Django's sign-in page saying
    they were not authorised and should log in as someone else, in a form that takes a password: now a
    plain 403 that says the administration is for administrators, with the way home."""
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.analyst)
    for url in ("/admin/", "/admin/governance/user/", "/admin/login/?next=/admin/"):
        response = client.get(url, follow=True)
        page = response.content.decode()
        assert response.status_code == 403, url
        assert "系统管理仅供管理员使用" in page, url
        assert 'href="/"' in page and 'type="password"' not in page, url
    refused = client.post("/admin/login/", {"username": "admin", "password": "x"})
    assert refused.status_code == 403
    assert client.get("/").wsgi_request.user == cast.analyst  # still signed in as themselves
    # An administrator is let in; someone not signed in gets the sign-in page.
    client.force_login(cast.admin)
    assert client.get("/admin/login/").status_code == 302
    assert client.get("/admin/").status_code == 200
    client.logout()
    anonymous = client.get("/admin/", follow=True)
    assert anonymous.status_code == 200 and 'type="password"' in anonymous.content.decode()
