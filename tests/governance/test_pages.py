from django.urls import reverse


def test_home_shows_memberships_and_a_map_of_my_areas(client, cast):
    client.force_login(cast.street_handler)
    html = client.get(reverse("governance-home")).content.decode()
    assert f'<span class="nowrap">{cast.street_a1.code}</span>' in html  # never broken mid-number
    # The role heads its line, as a label: capitalised in English ("Handler · 甲一街道"), where it
    # read "handler" (the Chinese label is unchanged).
    assert "<strong>Handler</strong>" in html and "<strong>handler</strong>" not in html
    assert "data-map" in html and f'data-areas="{cast.street_a1.code}"' in html
    # The work before the map: on a phone the map pushed the report button below the fold.
    client.force_login(cast.worker_a)
    html = client.get(reverse("governance-home")).content.decode()
    assert "<h2>My open incidents</h2>" in html and "below the fold" not in html
    assert html.index("<h2>My open incidents</h2>") < html.index('id="home-map"')


def test_pages_render_in_chinese_by_default_and_in_english_on_request(client, cast, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the product default (the test suite defaults to English)
    client.force_login(cast.worker_a)
    zh = client.get(reverse("governance-home")).content.decode()
    assert 'lang="zh-hans"' in zh and "首页" in zh and "退出" in zh
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    en = client.get(reverse("governance-home")).content.decode()
    assert 'lang="en"' in en and "Home" in en and "Log out" in en


def test_pages_are_not_stored_by_browsers_and_carry_a_strict_csp(client, cast):
    client.force_login(cast.worker_a)
    response = client.get(reverse("governance-home"))
    assert response["Cache-Control"] == "no-store"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_pages_load_no_external_assets(client, cast):
    client.force_login(cast.worker_a)
    html = client.get(reverse("governance-home")).content.decode()
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html
    assert "<script>" not in html and "style=" not in html


def test_notifications_page_lists_and_marks_read(client, cast):
    from governance.services import notify

    assert notify(user=cast.worker_a, key="k1", message="事件已逾期", link="/")
    assert not notify(user=cast.worker_a, key="k1", message="事件已逾期")  # idempotent
    client.force_login(cast.worker_a)
    assert "事件已逾期" in client.get(reverse("governance-notifications")).content.decode()
    assert "Mark all as read" in client.get(reverse("governance-notifications")).content.decode()
    client.post(reverse("governance-notifications"))
    assert not cast.worker_a.notifications.filter(read_at=None).exists()
    # Nothing left unread: no button that would do nothing.
    html = client.get(reverse("governance-notifications")).content.decode()
    assert "事件已逾期" in html and "Mark all as read" not in html


def test_the_notices_are_the_reader_s_own_and_mark_all_leaves_others_unread(client, cast):
    import re

    from governance.services import notify

    notify(user=cast.outsider, key="theirs", message="乙区事件 INC-777 已逾期", link="/grids/inbox/")
    notify(user=cast.community_handler, key="mine", message="事件 INC-2 已逾期", link="/grids/inbox/")
    client.force_login(cast.community_handler)
    page = client.get(reverse("governance-notifications")).content.decode()
    assert "INC-2 " in page and "INC-777" not in page
    up_to = re.search(r'name="up_to" value="(\d+)"', page).group(1)
    client.post(reverse("governance-notifications"), {"up_to": up_to})
    assert not cast.community_handler.notifications.filter(read_at=None).exists()
    assert cast.outsider.notifications.filter(read_at=None).count() == 1
    client.post(reverse("governance-notifications"))  # without up_to (a script): all of one's own
    assert cast.outsider.notifications.filter(read_at=None).count() == 1


def test_mark_all_with_a_form_not_as_the_page_wrote_it_marks_nothing_and_says_so(client, cast):
    from governance.services import notify

    notify(user=cast.community_handler, key="mine", message="事件 INC-2 已逾期", link="/grids/inbox/")
    client.force_login(cast.community_handler)
    response = client.post(reverse("governance-notifications"), {"up_to": "abc"})
    assert response.status_code == 400
    assert "could not be marked as read" in response.content.decode()
    assert cast.community_handler.notifications.filter(read_at=None).count() == 1


def test_every_notice_is_reachable_and_mark_all_marks_only_those_there_were(client, cast):
    """The newest 200 were listed while the badge counted every unread notice (a busy centre passes
    200 overdue notices in a day), and "Mark all as read" also marked a notice that arrived after
    the page was shown, which the reader never saw."""
    import re

    from governance.services import notify

    user = cast.community_handler
    for i in range(230):
        notify(user=user, key=f"k{i}", message=f"事件 INC-{i} 已逾期", link="/grids/inbox/")
    oldest = user.notifications.order_by("pk").first()
    client.force_login(user)
    first = client.get(reverse("governance-notifications")).content.decode()
    assert '<span class="badge">230</span>' in first and "1 / 5" in first
    last = client.get(reverse("governance-notifications"), {"page": 5}).content.decode()
    assert reverse("governance-notification-open", args=[oldest.pk]) in last
    up_to = re.search(r'name="up_to" value="(\d+)"', first).group(1)
    notify(user=user, key="later", message="事件 INC-999 已逾期", link="/grids/inbox/")
    client.post(reverse("governance-notifications"), {"up_to": up_to})
    assert list(user.notifications.filter(read_at=None).values_list("key", flat=True)) == ["later"]


def test_the_api_docs_are_served_offline(client, cast):
    client.force_login(cast.analyst)
    html = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower() and "https://" not in html
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/areas/locate/" in schema.content


def test_static_assets_resolve(client):
    from django.contrib.staticfiles import finders

    for path in [
        "leaflet/leaflet.js",
        "vendor/htmx/htmx.min.js",
        "vendor/echarts/echarts.min.js",
        "js/map.js",
    ]:
        assert finders.find(path), path


def test_deleting_holidays_in_bulk_from_the_admin_refreshes_the_working_day_calendar(client, cast):
    import datetime as dt

    from governance import periods
    from governance.models import Holiday

    monday, tuesday = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    client.force_login(cast.admin)
    response = client.post(
        "/admin/governance/holiday/add/", {"date": monday.isoformat(), "name": "假日", "is_workday": ""}
    )
    assert response.status_code == 302
    holidays = [Holiday.objects.get(date=monday), Holiday.objects.create(date=tuesday, name="假日")]
    assert not periods.is_working_day(monday) and not periods.is_working_day(tuesday)  # cached now
    response = client.post(
        "/admin/governance/holiday/",
        {"action": "delete_selected", "_selected_action": [h.pk for h in holidays], "post": "yes"},
    )
    assert response.status_code == 302 and not Holiday.objects.exists()
    assert periods.is_working_day(monday) and periods.is_working_day(tuesday)  # was stale: still holidays


def test_the_admin_names_every_model_and_field_in_the_users_language(client, cast):
    from django.contrib import admin
    from django.utils.functional import Promise

    shown = {*admin.site._registry} | {i.model for ma in admin.site._registry.values() for i in ma.inlines}
    for model in shown:
        if model._meta.app_label not in ("governance", "grids", "mediation", "petitions", "dashboards"):
            continue
        assert isinstance(model._meta.original_attrs.get("verbose_name"), Promise), model
        for field in model._meta.concrete_fields:
            if field.auto_created:  # the id
                continue
            assert isinstance(field.verbose_name, Promise), f"{model.__name__}.{field.name}"
    client.force_login(cast.admin)
    html = client.get("/admin/governance/auditentry/").content.decode()
    assert "Audit entries" in html and "entrys" not in html


def test_the_admin_says_change_as_django_does_in_chinese(client, cast, settings):
    # The league table's "Change" (较上期变化, versus the previous period) has its own context: without
    # one, the project catalogue replaced the admin's "Change" (修改) on every link and button.
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    html = client.get("/admin/").content.decode()
    assert "修改" in html and "较上期变化" not in html
    # Likewise "group" (群体性, a group dispute or petition) titled the admin's "Add group" page.
    response = client.get("/admin/auth/group/add/")
    assert response.status_code == 200 and "群体性" not in response.content.decode()


def test_error_pages_speak_the_users_language_and_lead_home(client, cast, settings):
    # With DEBUG off Django answered errors with a bare English page ("Not Found", "403 Forbidden"),
    # outside the layout, and never showed the reason a view gave.
    from django.test import RequestFactory
    from django.views.defaults import bad_request, server_error

    settings.DEBUG = False
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.analyst)
    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404
    assert "记录不存在，或不在您的管辖范围内。" in not_found.content.decode()
    forbidden = client.get(reverse("grids-report"))  # an analyst does not report incidents
    assert forbidden.status_code == 403
    assert "只有网格员和处置人员可以上报事件。" in forbidden.content.decode()
    for response in (not_found, forbidden):
        html = response.content.decode()
        assert 'lang="zh-hans"' in html and 'class="topbar"' in html and 'href="/"' in html
    settings.LANGUAGE_CODE = "en"
    request = RequestFactory().get("/")
    for response, title in (
        (server_error(request), "Server error"),
        (bad_request(request, None), "Bad request"),
    ):
        html = response.content.decode()
        assert title in html and 'href="/"' in html and "/static/css/app.css" in html
        assert "<script>" not in html and "style=" not in html


def test_a_format_the_schema_does_not_serve_lists_each_format_once(client, cast):
    client.force_login(cast.analyst)
    response = client.get("/api/schema/", {"format": "xml"})
    assert response.status_code == 400
    assert "use one of: yaml, json." in response.content.decode()  # was "yaml, yaml, json, json"


def test_opening_a_notification_marks_it_read_and_goes_to_its_record(client, cast):
    from governance.services import notify

    notify(user=cast.worker_a, key="k1", message="Incident INC-1 is overdue.", link="/grids/my/")
    notify(user=cast.worker_a, key="k2", message="Incident INC-2 is overdue.", link="/grids/my/")
    first, second = cast.worker_a.notifications.order_by("key")
    client.force_login(cast.worker_a)
    page = client.get(reverse("governance-notifications")).content.decode()
    # Opening is a form posted, not a link followed: the page holds no GET link to the open URL.
    url = reverse("governance-notification-open", args=[first.pk])
    assert f'<form method="post" action="{url}"' in page and f'href="{url}"' not in page
    assert '<span class="badge">2</span>' in page
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == "/grids/my/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None  # only the one opened
    assert '<span class="badge">1</span>' in client.get(reverse("governance-notifications")).content.decode()
    read_at = first.read_at
    client.post(url)
    first.refresh_from_db()
    assert first.read_at == read_at  # opened again: still read when it was first read


def test_a_get_of_a_notification_goes_to_its_record_and_leaves_it_unread(client, cast):
    """A GET marked the notice read: a link prefetcher, a preview, or the back button re-fetching the
    address read a notice nobody had seen. A GET now only leads to the record."""
    from governance.services import notify

    notify(user=cast.worker_a, key="k1", message="Incident INC-1 is overdue.", link="/grids/my/")
    notice = cast.worker_a.notifications.get()
    client.force_login(cast.worker_a)
    response = client.get(reverse("governance-notification-open", args=[notice.pk]))
    assert response.status_code == 302 and response["Location"] == "/grids/my/"
    notice.refresh_from_db()
    assert notice.read_at is None


def test_another_users_notification_is_a_404_and_stays_unread(client, cast):
    from governance.services import notify

    notify(user=cast.worker_b, key="k1", message="Incident INC-1 is overdue.", link="/grids/my/")
    notice = cast.worker_b.notifications.get()
    client.force_login(cast.worker_a)
    for method in (client.get, client.post):
        assert method(reverse("governance-notification-open", args=[notice.pk])).status_code == 404
        assert method(reverse("governance-notification-open", args=[10**6])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_a_notification_never_leads_off_the_site(client, cast):
    from governance.services import notify

    notify(user=cast.worker_a, key="k1", message="x", link="https://evil.example/")
    notice = cast.worker_a.notifications.get()
    client.force_login(cast.worker_a)
    for method in (client.get, client.post):
        response = method(reverse("governance-notification-open", args=[notice.pk]))
        assert response.status_code == 302 and response["Location"] == reverse("governance-notifications")


def test_the_notifications_page_takes_no_query_per_notification(client, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.services import notify

    client.force_login(cast.worker_a)
    notify(user=cast.worker_a, key="k0", message="x", link="/grids/my/")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("governance-notifications"))
    for i in range(1, 20):
        notify(user=cast.worker_a, key=f"k{i}", message="x", link="/grids/my/")
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("governance-notifications")).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_sign_in_lockout_records_are_named_in_chinese_in_the_admin(client, cast, settings):
    # django-axes ships no Chinese: its app, models and columns came out in English ("Axes", "Access
    # attempts") on an otherwise Chinese admin. locale/vendor carries them.
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.admin)
    index = client.get("/admin/").content.decode()
    assert "登录锁定记录" in index and "登录尝试" in index and "Access attempts" not in index
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(username="someone", ip_address="10.0.0.9", failures_since_start=2)
    listing = client.get("/admin/axes/accessattempt/").content.decode()
    assert "登录失败次数" in listing and "Failed Logins" not in listing
    # The vendor catalogue rewords only Django's poorer messages (its validation errors): the admin's
    # buttons are Django's words.
    assert "修改" in index and "增加" in index


def test_a_superuser_without_a_role_is_told_they_see_everything_and_gets_the_map(client, cast):
    # The first account of a deployment (README: docker compose exec web ... createsuperuser) has no
    # membership: its home told it "You have no role at any area yet. Ask an administrator." while
    # it sees the whole city, and showed no map.
    client.force_login(cast.admin)
    html = client.get(reverse("governance-home")).content.decode()
    assert "Ask an administrator" not in html
    assert "You are a superuser: you see every area without a role at one." in html
    assert f'data-areas="{cast.city.code}"' in html
    # A user with no role still reads that they have none.
    client.force_login(cast.admin.__class__.objects.create_user("nobody", password="x" * 12))
    html = client.get(reverse("governance-home")).content.decode()
    assert "You have no role at any area yet. Ask an administrator." in html and "data-map" not in html


def test_switching_language_after_a_refused_login_keeps_where_the_login_leads(client, cast):
    """The login page drawn again after a wrong password is the answer to a POST: the language
    switch sent the user to /accounts/login/ without its ?next=, and the login then led home
    instead of to the page that had asked for it."""
    response = client.post("/accounts/login/?next=/petitions/", {"username": "worker_a", "password": "x"})
    html = response.content.decode()
    assert '<input name="next" type="hidden" value="/accounts/login/?next=/petitions/">' in html


def test_no_template_comment_runs_over_a_line():
    """Django's {# #} ends at the line's end: one continued on a second line was printed on every page
    (base.html's, above the language switch, pushed the report map's pin out of reach on a phone)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    unclosed = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert unclosed == []


def test_the_notifications_page_costs_the_same_queries_for_more_notices(client, cast):
    """The one list of the governance pages without a query count asserted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.models import Notification

    def notices(start: int, count: int) -> None:
        Notification.objects.bulk_create(
            Notification(
                user=cast.street_handler, key=f"t:{i}", message=f"notice {i}", texts={"en": f"notice {i}"}
            )
            for i in range(start, start + count)
        )

    notices(0, 1)
    client.force_login(cast.street_handler)
    client.get("/notifications/")  # warm-up
    with CaptureQueriesContext(connection) as few:
        assert "notice 0" in client.get("/notifications/").content.decode()
    notices(1, 60)
    with CaptureQueriesContext(connection) as more:
        html = client.get("/notifications/").content.decode()
    assert html.count("notice ") == 50
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_page_language_is_the_user_s_choice_then_the_browser_s_then_the_default(client, settings):
    """README (LANGUAGE_CODE): the default is the language of a browser that asks for neither; it
    said "before a user chooses", and a newcomer whose browser was set to English read the demo in
    English without choosing anything."""
    settings.LANGUAGE_CODE = "zh-hans"
    url = "/accounts/login/"
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")["Content-Language"] == "en"
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")["Content-Language"] == "zh-hans"
    assert client.get(url)["Content-Language"] == "zh-hans"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")["Content-Language"] == "zh-hans"
