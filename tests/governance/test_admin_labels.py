"""The admin names things as a reader does, in the reader's language: the actions, object types and
triggers the platform records as codes ("assessment.publish", "dashboards.assessmentscheme",
"demo") were shown as those codes on the Chinese admin's lists, filters, titles and breadcrumbs."""

import re

import pytest
from django.utils import timezone, translation

from governance.models import AuditEntry
from governance.services import audit
from tests.base import logged_reveal


def _audited(cast) -> AuditEntry:
    return audit(actor=cast.admin, action="password.reset", obj=cast.worker_a, after={"x": 1})


def test_an_audit_entry_is_named_by_its_action_and_the_kind_of_record(cast):
    entry = _audited(cast)
    with translation.override("zh-hans"):
        name = str(entry)
    assert name.startswith("设置临时密码 · 用户 ")
    assert "password.reset" not in name and "governance.user" not in name


def test_the_audit_list_and_its_filter_show_labels_not_codes(client, cast, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    entry = _audited(cast)
    client.force_login(cast.admin)
    html = client.get("/admin/governance/auditentry/").content.decode()
    rows = html.split('id="result_list"')[1].split("</table>")[0]
    assert "设置临时密码" in rows and ">用户<" in rows
    assert "password.reset" not in rows and "governance.user" not in rows
    assert re.search(r'<a href="\?action__exact=password.reset"[^>]*>\s*设置临时密码', html)
    page = client.get(f"/admin/governance/auditentry/{entry.pk}/change/").content.decode()
    assert "设置临时密码" in page and "password.reset" not in page


def test_an_unknown_audit_code_is_still_shown(cast):
    entry = AuditEntry(actor=cast.admin, action="new.thing", object_type="gone.model", object_id="7")
    entry.at = timezone.now()
    assert str(entry).startswith("new.thing · gone.model 7 · ")


def test_every_word_of_the_admins_scripts_is_in_its_chinese_catalogue(client, cast, settings):
    """Django's zh_Hans catalogue for the admin's scripts lacks the two-box chooser's words (a user's
    groups and permissions): "Choose 组 by selecting them and then select the "Choose" arrow
    button." The vendor catalogue (locale/vendor/zh_Hans/LC_MESSAGES/djangojs.po) carries them."""
    import json
    from pathlib import Path

    import django

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    script = client.get("/admin/jsi18n/").content.decode()
    catalogue = json.loads(re.search(r"const newcatalog = (\{.*?\});\n", script, re.S).group(1))
    words = set()
    for path in (Path(django.__file__).parent / "contrib/admin/static/admin/js").rglob("*.js"):
        if "vendor" not in path.parts:
            # gettext('...') and ngettext('...'), not pgettext (the calendar's, keyed with a context)
            words |= set(re.findall(r"(?<![p])gettext\(\s*'((?:[^'\\]|\\.)*)'", path.read_text()))
            words |= set(re.findall(r'(?<![p])gettext\(\s*"((?:[^"\\]|\\.)*)"', path.read_text()))
    words = {w.replace("\\'", "'").replace('\\"', '"') for w in words}
    assert 'Choose %s by selecting them and then select the "Choose" arrow button.' in words
    assert sorted(w for w in words if w not in catalogue) == []
    # ...and addresses the administrator as 您, as the admin's pages do ("你尚未保存…" before an action).
    said = {w: catalogue[w] for w in words if w in catalogue}
    assert sorted(w for w, s in said.items() if "你" in "".join(s if isinstance(s, list) else [s])) == []


def test_permissions_are_named_in_the_readers_language(client, cast, settings):
    """Django names each permission in English when it creates it ("Can add petitioner"), and the
    user's and the group's pages listed 200 of them so: 信访件 | 信访人 | Can add petitioner."""
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    for url in (f"/admin/governance/user/{cast.worker_a.pk}/change/", "/admin/auth/group/add/"):
        html = client.get(url).content.decode()
        assert ">信访件 | 信访人 | 添加</option>" in html, url
        assert ">基础管理 | 用户 | 查看</option>" in html, url
        assert "Can add" not in html and "Can view" not in html, url


def test_the_scheduled_jobs_lists_name_their_columns_and_crontabs_in_chinese(client, cast, settings):
    """celery-beat names some columns by attribute ("SCHEDULER", "Human readable", "Crontab
    translation"), the task field by a literal ("Task Name", in the filter and the schedules' task
    lists) and describes a crontab in English ("At 02:00 AM"): no catalogue can translate those."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    crontab = CrontabSchedule.objects.create(minute="0", hour="2", timezone="Asia/Shanghai")
    task = PeriodicTask.objects.create(name="nightly job", task="dashboards.rollup", crontab=crontab)
    pages = {
        "/admin/django_celery_beat/periodictask/": ["执行计划", "以 执行的任务"],
        f"/admin/django_celery_beat/periodictask/{task.pk}/change/": ["在 02:00 Asia/Shanghai"],
        "/admin/django_celery_beat/crontabschedule/": ["在 02:00 Asia/Shanghai"],
        f"/admin/django_celery_beat/crontabschedule/{crontab.pk}/change/": ["执行的任务", "在 02:00"],
    }
    for url, words in pages.items():
        html = client.get(url).content.decode()
        for word in words:
            assert word in html, (url, word)
        for english in ("Scheduler", "Task Name", "Human readable", "Crontab translation", "02:00 AM"):
            assert english not in html, (url, english)


def test_a_reveal_names_the_details_seen_by_their_labels(client, cast, settings):
    """The reveals' log showed which details were seen by their field names ("name,id_number")."""
    settings.LANGUAGE_CODE = "zh-hans"
    entry = logged_reveal(cast.mediator, "name,id_number,phone", "核实身份")
    with translation.override("zh-hans"):
        assert str(entry).startswith("DSP-2026-000001 · 名称、身份证号、联系电话 · ")
    client.force_login(cast.admin)
    html = client.get("/admin/governance/personaldataaccess/").content.decode()
    rows = html.split('id="result_list"')[1].split("</table>")[0]
    assert "名称、身份证号、联系电话" in rows and "id_number" not in rows
    assert ">纠纷当事人<" in rows or ">当事人<" in rows
    assert re.search(r'<a href="\?object_type__exact=mediation.disputeparty"[^>]*>\s*当事人', html)
    filtered = client.get("/admin/governance/personaldataaccess/?object_type__exact=mediation.disputeparty")
    assert filtered.context["cl"].result_count == 1
    page = client.get(f"/admin/governance/personaldataaccess/{entry.pk}/change/").content.decode()
    assert "名称、身份证号、联系电话" in page
    assert "id_number" not in page and "mediation.disputeparty" not in page


def test_the_sign_in_attempts_list_names_its_status_column(client, cast, settings):
    """django-axes names the column by its method ("Status"), which no catalogue translates."""
    from axes.models import AccessAttempt

    settings.LANGUAGE_CODE = "zh-hans"
    AccessAttempt.objects.create(
        username="someone",
        ip_address="10.0.0.1",
        user_agent="x",
        http_accept="x",
        path_info="/",
        failures_since_start=1,
    )
    client.force_login(cast.admin)
    html = client.get("/admin/axes/accessattempt/").content.decode()
    assert re.search(r'class="column-status">\s*<div class="text"><span>状态</span>', html)
    assert ">Status<" not in html


@pytest.mark.parametrize("model_name", ["accessattempt", "accessfailurelog", "accesslog"])
def test_sign_in_records_are_named_in_the_reader_s_language_and_time(client, cast, settings, model_name):
    """django-axes names its records in English, at UTC with microseconds ("Attempted Access:
    2026-12-06 18:52:09.249685+00:00", "Failed access: user 张三 locked out on ..."): so the Chinese
    admin's row checkboxes, the record's page and its breadcrumb read, and so did the admin log of an
    account unlocked by deleting its attempt. They are named by username, address and local time."""
    import datetime as dt

    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.admin.models import LogEntry

    settings.LANGUAGE_CODE = "zh-hans"
    # A recent time: signing in clears attempts older than the cool-off, so a fixed date emptied the
    # attempts' list once the clock passed it by 15 minutes.
    at = (timezone.now() - dt.timedelta(minutes=1)).replace(microsecond=249685)
    common = {"username": "someone", "ip_address": "10.0.0.1", "user_agent": "x", "path_info": "/"}
    model = {"accessattempt": AccessAttempt, "accessfailurelog": AccessFailureLog, "accesslog": AccessLog}[
        model_name
    ]
    extra = {
        "accessattempt": {"http_accept": "x", "failures_since_start": 5},
        "accessfailurelog": {"http_accept": "x", "locked_out": True},
        "accesslog": {"http_accept": "x"},
    }[model_name]
    record = model.objects.create(**common, **extra)
    model.objects.filter(pk=record.pk).update(attempt_time=at)
    name = f"someone · 10.0.0.1 · {timezone.localtime(at):%Y-%m-%d %H:%M:%S}"  # Asia/Shanghai, no µs
    client.force_login(cast.admin)
    rows = client.get(f"/admin/axes/{model_name}/").content.decode().split('id="result_list"')[1]
    assert f'aria-label="选择此对象执行操作 - {name}' in rows
    page = client.get(f"/admin/axes/{model_name}/{record.pk}/change/").content.decode()
    breadcrumbs = page.split('class="breadcrumbs"')[1].split("</div>")[0]
    assert name in breadcrumbs and f"<h2>{name}" in page
    history = client.get(f"/admin/axes/{model_name}/{record.pk}/history/").content.decode()
    confirm = client.get(f"/admin/axes/{model_name}/{record.pk}/delete/").content.decode()
    bulk = client.post(
        f"/admin/axes/{model_name}/", {"action": "delete_selected", "_selected_action": [record.pk]}
    ).content.decode()
    for shown in (page, history, confirm, bulk):
        assert name in shown
        for english in ("Attempted Access", "Failed access", "Access Log", "+00:00"):
            assert english not in shown, english
    response = client.post(f"/admin/axes/{model_name}/{record.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not model.objects.filter(pk=record.pk).exists()
    assert LogEntry.objects.get(
        object_id=str(record.pk), content_type__model=model_name
    ).object_repr.startswith(name)


@pytest.mark.parametrize("model_name", ["accessattempt", "accessfailurelog", "accesslog"])
def test_sign_in_records_are_view_only_but_can_still_be_deleted(client, cast, settings, model_name):
    """Every field of a sign-in record is read-only, yet its page offered 保存 (Save) and 保存并继续编辑:
    nothing to save. The page is view-only; deleting an attempt (which unlocks an account) stays."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    settings.LANGUAGE_CODE = "zh-hans"
    model = {"accessattempt": AccessAttempt, "accessfailurelog": AccessFailureLog, "accesslog": AccessLog}[
        model_name
    ]
    extra = {"failures_since_start": 5} if model_name == "accessattempt" else {}
    record = model.objects.create(
        username="someone", ip_address="10.0.0.1", user_agent="x", http_accept="x", path_info="/", **extra
    )
    client.force_login(cast.admin)
    page = client.get(f"/admin/axes/{model_name}/{record.pk}/change/").content.decode()
    assert 'name="username"' not in page and "someone" in page  # shown, not editable
    for button in ('name="_save"', 'name="_continue"', 'name="_addanother"', "保存"):
        assert button not in page, button
    assert f'href="/admin/axes/{model_name}/{record.pk}/delete/"' in page  # 删除 stays
    posted = client.post(f"/admin/axes/{model_name}/{record.pk}/change/", {"username": "other"})
    assert posted.status_code == 403
    record.refresh_from_db()
    assert record.username == "someone"  # nothing saved
    response = client.post(f"/admin/axes/{model_name}/{record.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not model.objects.filter(pk=record.pk).exists()


PLATFORM_JOBS_ZH = {
    "governance.relay_outbox": "发送待发消息",
    "dashboards.rollup nightly": "每晚指标汇总计算",
    "grids: notify overdue incidents": "逾期事件提醒",
    "petitions: deadline reminders": "信访办理期限提醒",
    "mediation: closing judicial-confirmation windows": "司法确认申请期限届满提醒",
    "mediation: time limits ending or passed": "调解期限将到或已过提醒",
}


def _rows(html: str) -> str:
    return html.split('id="result_list"')[1].split("</table>")[0]


def test_the_platform_s_scheduled_jobs_are_listed_by_their_chinese_labels(client, cast, settings):
    """The jobs the migrations create are named by keys the code and the migrations find them by
    ("grids: notify overdue incidents", "governance.relay_outbox"): the Chinese admin listed them in
    English. They keep their keys and are shown by a translatable label; the task filter too."""
    from django_celery_beat.models import PeriodicTask

    settings.LANGUAGE_CODE = "zh-hans"
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= set(PLATFORM_JOBS_ZH)
    client.force_login(cast.admin)
    html = client.get("/admin/django_celery_beat/periodictask/").content.decode()
    rows = _rows(html)
    for key, label in PLATFORM_JOBS_ZH.items():
        assert f">{label}</a>" in rows, label
        assert key not in rows, key
    filters = html.split('id="changelist-filter"')[1]
    assert re.search(r'<a href="\?task=grids.notify_overdue"[^>]*>\s*逾期事件提醒', filters)
    assert ">grids.notify_overdue<" not in filters
    # A schedule's page lists the jobs it runs by their labels too.
    relay = PeriodicTask.objects.get(name="governance.relay_outbox")
    schedule = client.get(f"/admin/django_celery_beat/intervalschedule/{relay.interval_id}/change/")
    assert re.search(r'<td class="field-job_shown">\s*<p>发送待发消息</p>', schedule.content.decode())
    with translation.override("en"):
        settings.LANGUAGE_CODE = "en"
        english = _rows(client.get("/admin/django_celery_beat/periodictask/").content.decode())
    assert ">Overdue incident notices</a>" in english


def test_a_scheduled_job_page_shows_its_label_and_keeps_its_key(client, cast, settings):
    from django_celery_beat.models import PeriodicTask

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    job = PeriodicTask.objects.get(name="grids: notify overdue incidents")
    url = f"/admin/django_celery_beat/periodictask/{job.pk}/change/"
    html = client.get(url).content.decode()
    assert "<h2>逾期事件提醒</h2>" in html  # the subtitle, str(job) before
    breadcrumbs = html.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert "逾期事件提醒" in breadcrumbs and "notify overdue" not in breadcrumbs
    # The key is shown, not offered for editing: the migrations and the code find the job by it.
    assert 'name="name"' not in html and "grids: notify overdue incidents" in html
    form = {
        "name": "renamed",
        "regtask": "",
        "task": job.task,
        "enabled": "on",
        "interval": job.interval_id,
        "args": "[]",
        "kwargs": "{}",
        "expire_seconds": 500,
        "priority": "",
        "headers": "{}",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    job.refresh_from_db()
    assert job.name == "grids: notify overdue incidents" and job.expire_seconds == 500


def test_a_job_the_administrator_adds_keeps_its_own_name_and_the_labels_are_searchable(
    client, cast, settings
):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    every = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.HOURS)
    own = PeriodicTask.objects.create(name="额外的汇总", task="dashboards.rollup", interval=every)
    rows = _rows(client.get("/admin/django_celery_beat/periodictask/").content.decode())
    assert ">额外的汇总</a>" in rows
    html = client.get(f"/admin/django_celery_beat/periodictask/{own.pk}/change/").content.decode()
    assert 'name="name"' in html  # its own name stays editable
    found = client.get("/admin/django_celery_beat/periodictask/", {"q": "逾期事件"})
    assert [job.name for job in found.context["cl"].result_list] == ["grids: notify overdue incidents"]
    found = client.get("/admin/django_celery_beat/periodictask/", {"q": "额外"})
    assert [job.name for job in found.context["cl"].result_list] == ["额外的汇总"]


def test_a_platform_job_s_description_is_shown_in_the_reader_s_language(client, cast, settings):
    """The migrations store the relay's and the rollup's descriptions in English ("Send outbox
    messages that could not be sent when they were written."), which the Chinese job page showed in
    an editable box. They stay stored as they are and are shown translated, read-only like the name;
    the schedule's page names the jobs it runs by their labels, not "governance.relay_outbox: 每 分钟"."""
    from django_celery_beat.models import PeriodicTask

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    relay = PeriodicTask.objects.get(name="governance.relay_outbox")
    stored = relay.description
    url = f"/admin/django_celery_beat/periodictask/{relay.pk}/change/"
    html = client.get(url).content.decode()
    assert "发送写入时未能发出、在待发队列中等候的消息。" in html
    assert stored not in html and 'name="description"' not in html
    rollup = PeriodicTask.objects.get(name="dashboards.rollup nightly")
    html = client.get(f"/admin/django_celery_beat/periodictask/{rollup.pk}/change/").content.decode()
    assert "重新计算自上次成功运行以来有变动的指标值及当前各期的指标值。" in html
    assert "Recompute indicator values" not in html
    # Saving the page keeps the stored text (the key of its translation), not the Chinese shown.
    form = {"regtask": "", "task": relay.task, "enabled": "on", "interval": relay.interval_id, "args": "[]"}
    form |= {"kwargs": "{}", "expire_seconds": "", "priority": "", "headers": "{}", "description": "改了"}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    relay.refresh_from_db()
    assert relay.description == stored
    # A description stored otherwise (changed outside the admin) is shown as it is.
    PeriodicTask.objects.filter(pk=relay.pk).update(description="每分钟发送一次")
    assert "每分钟发送一次" in client.get(url).content.decode()
    # A platform job without a stored description, and a job an administrator adds, keep an
    # editable one of their own.
    overdue = PeriodicTask.objects.get(name="grids: notify overdue incidents")
    html = client.get(f"/admin/django_celery_beat/periodictask/{overdue.pk}/change/").content.decode()
    assert 'name="description"' in html
    own = PeriodicTask.objects.create(name="额外", task="dashboards.rollup", interval=relay.interval)
    html = client.get(f"/admin/django_celery_beat/periodictask/{own.pk}/change/").content.decode()
    assert 'name="description"' in html
    # The schedule's page: each job's row is headed by its label.
    schedule = client.get(f"/admin/django_celery_beat/intervalschedule/{relay.interval_id}/change/")
    originals = re.findall(r'<td class="original">\s*<p>\s*(.*?)\s*<a', schedule.content.decode(), re.S)
    assert sorted(originals) == ["发送待发消息", "额外"], originals
    with translation.override("en"):
        settings.LANGUAGE_CODE = "en"
        PeriodicTask.objects.filter(pk=relay.pk).update(description=stored)
        assert stored in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("url", "fields", "shown"),
    [
        (
            "/admin/grids/incidentcategory/",
            ["accept_hours", "dispatch_hours", "handle_hours", "verify_hours", "is_active"],
            "Fire hazard",
        ),
        ("/admin/mediation/disputecategory/", ["sort_order", "is_active"], "Neighbours"),
    ],
)
def test_each_field_edited_in_a_list_is_named_by_its_column_and_its_row(
    client, cast, settings, url, fields, shown
):
    """A list's editable cells (a category's time limits, its order, whether it is active) had no
    label: a screen reader announced "edit text, 2" or "checkbox, checked" row after row, naming
    neither the column nor the category (WCAG 1.3.1, 4.1.2)."""
    from django.conf import settings as conf

    client.force_login(cast.admin)
    client.cookies[conf.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(url).content.decode()
    inputs = re.findall(r"<input[^>]*name=\"form-\d+-(\w+)\"[^>]*>", html)
    visible = [
        tag for tag in re.findall(r"<input[^>]*name=\"form-\d+-\w+\"[^>]*>", html) if "hidden" not in tag
    ]
    assert {name for name in inputs if name in fields} == set(fields)
    labels = [re.search(r'aria-label="([^"]*)"', tag) for tag in visible]
    assert labels and all(labels), [tag for tag, label in zip(visible, labels) if not label]
    texts = [label.group(1) for label in labels]
    assert any(text.endswith(" · " + shown) for text in texts), texts[:6]
    assert any(text.startswith("Active · ") for text in texts), texts[:6]


def test_a_platform_job_and_the_schedule_it_runs_on_are_not_deleted_in_the_admin(client, cast, settings):
    """The migrations create the platform's jobs once: one deleted in the admin (or with the crontab
    or interval it runs on, which takes its jobs with it) was gone for good, and the rollup, the
    reminders or the relay stopped without a word. They are turned off instead (启用); a job the
    administrator added, and a schedule only it runs on, are still deleted."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    job = PeriodicTask.objects.get(name="grids: notify overdue incidents")
    page = client.get(f"/admin/django_celery_beat/periodictask/{job.pk}/change/").content.decode()
    assert f"/periodictask/{job.pk}/delete/" not in page
    assert "平台的周期性任务不能删除" in page  # said where it is turned off instead
    response = client.post(f"/admin/django_celery_beat/periodictask/{job.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    selected = {"action": "delete_selected", "_selected_action": [job.pk]}
    response = client.post("/admin/django_celery_beat/periodictask/", selected)
    assert response.status_code == 200 and "无法删除" in response.content.decode()
    response = client.post("/admin/django_celery_beat/periodictask/", {**selected, "post": "yes"})
    assert response.status_code == 403
    schedule = f"/admin/django_celery_beat/intervalschedule/{job.interval_id}/delete/"
    confirm = client.get(schedule).content.decode()
    assert "无法删除" in confirm and 'name="post"' not in confirm
    client.post(schedule, {"post": "yes"})
    assert PeriodicTask.objects.filter(pk=job.pk).exists()
    assert IntervalSchedule.objects.filter(pk=job.interval_id).exists()
    # The administrator's own job, and a schedule only it runs on, go.
    every = IntervalSchedule.objects.create(every=3, period=IntervalSchedule.HOURS)
    own = PeriodicTask.objects.create(name="额外的汇总", task="dashboards.rollup", interval=every)
    confirm = client.get(f"/admin/django_celery_beat/intervalschedule/{every.pk}/delete/").content.decode()
    assert ">额外的汇总</a>" in confirm  # its jobs named by their labels, not "额外的汇总: 每 3 小时"
    response = client.post(f"/admin/django_celery_beat/intervalschedule/{every.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not PeriodicTask.objects.filter(pk=own.pk).exists()


def test_a_sign_in_record_without_an_address_or_a_name_reads_a_dash_not_none(client, cast, settings):
    """axes keeps a sign-in whose address it could not read (or a failure with no username) with an
    empty field: its page, title and breadcrumb read "demo_admin · None · 2026-12-07 20:26:13"."""
    from axes.models import AccessLog

    settings.LANGUAGE_CODE = "zh-hans"
    record = AccessLog.objects.create(username=None, ip_address=None, user_agent="x", path_info="/")
    client.force_login(cast.admin)
    page = client.get(f"/admin/axes/accesslog/{record.pk}/change/").content.decode()
    when = f"{timezone.localtime(record.attempt_time):%Y-%m-%d %H:%M:%S}"
    assert f"<h2>– · – · {when}</h2>" in page and "None ·" not in page


def test_a_job_s_crontab_is_chosen_by_its_words_as_well_as_its_expression(client, cast, settings):
    """The job form's crontab list offered "0 2 * * * (m/h/dM/MY/d) Asia/Shanghai" only, while the
    crontabs' own list and the job's page describe it ("在 02:00 Asia/Shanghai")."""
    from django_celery_beat.models import CrontabSchedule

    settings.LANGUAGE_CODE = "zh-hans"
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_month="*", month_of_year="*", day_of_week="*", timezone="Asia/Shanghai"
    )
    client.force_login(cast.admin)
    html = client.get("/admin/django_celery_beat/periodictask/add/").content.decode()
    choices = html.split('name="crontab"')[1].split("</select>")[0]
    assert f'<option value="{crontab.pk}">在 02:00 Asia/Shanghai（0 2 * * *）</option>' in choices
    assert "(m/h/dM/MY/d)" not in choices


def test_the_admin_password_page_words_its_password_switch_in_each_reader_s_language(client, cast):
    """Django's AdminPasswordChangeForm joins its help text to a warning when the module is imported:
    the text was fixed in whichever language was active then (Chinese on a Chinese-default site, on
    every English page too), and its warning was never translated at all."""
    client.force_login(cast.admin)
    url = f"/admin/governance/user/{cast.worker_a.pk}/password/"
    for language, wanted, unwanted in (
        ("en", ["Whether the user will be able", "the current password for this user will be lost"], "用户"),
        ("zh-hans", ["用户是否能够使用密码进行认证", "该用户当前的密码将丢失"], "Whether the user"),
    ):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        switch = html[html.index('name="usable_password"') : html.index('class="form-row field-password1"')]
        assert all(text in switch for text in wanted), (language, switch)
        assert unwanted not in switch, language
        # The page's script shows the warning by this id when the switch is turned off.
        assert '<ul id="id_unusable_warning" class="messagelist"><li class="warning">' in switch


def test_the_token_permissions_are_listed_once(client, cast, settings):
    """DRF's token has a second model for its admin page (TokenProxy, here replaced by the API
    tokens' page), with the same name: the permission lists showed 认证令牌 | 令牌 | 查看 twice, and
    nobody could tell which one the admin asks for."""
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    for url in (f"/admin/governance/user/{cast.worker_a.pk}/change/", "/admin/auth/group/add/"):
        html = client.get(url).content.decode()
        for action in ("添加", "修改", "删除", "查看"):
            assert html.count(f">认证令牌 | 令牌 | {action}</option>") == 1, (url, action)
        assert ">基础管理 | API 令牌 | 查看</option>" in html, url


def test_the_admin_change_log_is_not_named_as_the_administration_itself(client, cast, settings):
    """Django's admin app (its change log, LogEntry) is named "Administration", the index's title's
    word: the index said 系统管理 above a section also called 系统管理, and its breadcrumbs
    '首页 › 系统管理 › 日志记录' read as the whole administration's log."""
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    html = client.get("/admin/").content.decode()
    assert re.search(r"<h1[^>]*>\s*系统管理\s*</h1>", html)
    section = re.search(r'<a href="/admin/admin/"[^>]*>([^<]+)</a>', html).group(1).strip()
    assert section == "后台操作日志"
    page = client.get("/admin/admin/logentry/").content.decode()
    assert "后台操作日志" in page.split('class="breadcrumbs"')[1].split("</div>")[0]
