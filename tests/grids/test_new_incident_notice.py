import pytest

from governance.models import OutboxMessage


@pytest.mark.django_db(transaction=True)
def test_reporting_queues_a_notice_to_the_community_handlers_through_the_outbox(cast, report):
    incident = report()
    message = OutboxMessage.objects.get(task="grids.notify_new_incident")
    assert message.kwargs == {"incident_id": incident.pk} and message.sent_at is not None
    notice = cast.community_handler.notifications.get()
    assert incident.code in notice.message and notice.link.endswith(f"/{incident.code}/")
    assert not cast.street_handler.notifications.exists()  # the community accepts this category first


@pytest.mark.django_db(transaction=True)
def test_the_notice_is_sent_once_even_if_the_task_runs_twice(cast, report):
    from grids.services import incident_notify_new

    incident = report()
    assert incident_notify_new(incident.pk) == 0
    assert cast.community_handler.notifications.count() == 1


@pytest.mark.django_db(transaction=True)
def test_escalating_notifies_the_next_levels_centre_once_per_level(cast, report):
    from grids import services
    from grids.services import incident_notify_escalated

    incident = report()  # community level: the community handler is told
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="escalate", note="needs the street"
    )
    message = OutboxMessage.objects.get(task="grids.notify_escalated_incident")
    assert message.kwargs == {"incident_id": incident.pk, "level": "street"} and message.sent_at is not None
    notice = cast.street_handler.notifications.get()
    assert notice.key == f"incident-escalated:{incident.pk}:street"
    assert notice.message == (
        f"Incident {incident.code} in {cast.grid_a.name} was escalated to street level and waits for acceptance."
    )
    assert notice.link.endswith(f"/{incident.code}/")
    assert incident_notify_escalated(incident.pk, "street") == 0  # the task running twice: no second notice
    assert not cast.district_officer.notifications.exists()
    services.incident_transition(
        incident=incident, actor=cast.street_handler, action="escalate", note="bigger"
    )
    assert cast.district_officer.notifications.get().key == f"incident-escalated:{incident.pk}:district"
    assert not cast.department_user.notifications.exists()  # centres only, not the district's departments
    assert cast.street_handler.notifications.count() == 1
    # A stale message (the item has moved on to the district) notifies nobody.
    assert incident_notify_escalated(incident.pk, "street") == 0


@pytest.mark.django_db(transaction=True)
def test_dispatching_tells_the_lead_and_each_supporting_department_once(cast, report):
    from governance.models import Role
    from grids import services
    from grids.services import incident_notify_dispatched
    from tests.base import make_user

    urban_user = make_user("urban_user", Role.HANDLER, cast.district_a, cast.urban)
    team_user = make_user("team_user", Role.HANDLER, cast.street_a1, cast.street_team)
    incident = report(kind="coordination")
    services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    event = services.incident_transition(
        incident=incident,
        actor=cast.community_handler,
        action="dispatch",
        department=cast.police.pk,
        supporting_departments=[cast.urban.pk],
    )
    message = OutboxMessage.objects.get(task="grids.notify_dispatched_incident")
    assert (
        message.kwargs == {"incident_id": incident.pk, "event_id": event.pk} and message.sent_at is not None
    )
    lead = cast.department_user.notifications.get()
    assert lead.key == f"incident-dispatched:{incident.pk}:{event.pk}"
    assert (
        lead.message == f"Incident {incident.code} in {cast.grid_a.name} was dispatched to your department."
    )
    assert lead.link.endswith(f"/{incident.code}/")
    support = urban_user.notifications.get()
    assert support.message == (
        f"Incident {incident.code} in {cast.grid_a.name} needs your department's help: "
        f"{cast.police.name} leads, record your part on it."
    )
    assert not team_user.notifications.exists()  # a department the dispatch did not name
    assert incident_notify_dispatched(incident.pk, event.pk) == 0  # the task running twice
    assert cast.department_user.notifications.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_stale_dispatch_notice_notifies_nobody(cast, report):
    from grids import services
    from grids.services import incident_notify_dispatched

    incident = report()
    services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    event = services.incident_transition(
        incident=incident, actor=cast.community_handler, action="dispatch", department=cast.police.pk
    )
    cast.department_user.notifications.all().delete()
    services.incident_transition(incident=incident, actor=cast.admin, action="handle")
    services.incident_transition(incident=incident, actor=cast.admin, action="feedback", resolution="done")
    assert incident_notify_dispatched(incident.pk, event.pk) == 0  # fed back since: nothing to act on
    assert incident_notify_dispatched(incident.pk, event.pk + 1000) == 0  # no such dispatch
    assert not cast.department_user.notifications.exists()


@pytest.mark.django_db(transaction=True)
def test_a_notice_reads_in_each_readers_language_not_the_senders(cast, report, client, settings):
    """A worker using the English UI reports (eager tasks run in the request's language): the notice
    must not reach a Chinese-speaking handler in English, nor the reverse."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "zh-hans"  # the site's language
    with translation.override("en"):
        incident = report()
    notice = cast.community_handler.notifications.get()
    english = f"New incident {incident.code} in {cast.grid_a.name} waits for acceptance."
    chinese = f"{cast.grid_a.name} 新上报事件 {incident.code}，等待受理。"
    assert notice.texts == {"zh-hans": chinese, "en": english}
    assert notice.message == chinese  # the site's language, for readers of any other
    client.force_login(cast.community_handler)
    for language, text in (("zh-hans", chinese), ("en", english)):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = client.get("/notifications/").content.decode()
        assert text in page and (english if language == "zh-hans" else chinese) not in page


@pytest.mark.django_db
def test_a_choice_label_in_a_notice_is_translated_for_each_reader(cast, settings):
    from django.utils import translation

    from governance.services import notify
    from grids.models import Level

    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("en"):
        notify(
            user=cast.worker_a,
            key="k",
            message=translation.gettext_lazy("Incident %(code)s is overdue (%(status)s)."),
            params={"code": "INC-1", "status": Level.STREET.label},
        )
    notice = cast.worker_a.notifications.get()
    assert notice.texts["en"] == "Incident INC-1 is overdue (street)."
    assert notice.texts["zh-hans"] == "事件 INC-1 已逾期（街道）。"
    with translation.override("en"):
        assert notice.text == "Incident INC-1 is overdue (street)."
    with translation.override("fr"):
        assert notice.text == notice.message == notice.texts["zh-hans"]  # no such language: the site's


@pytest.mark.django_db(transaction=True)
def test_feedback_tells_the_grid_workers_to_check_and_a_failed_check_tells_the_department(cast, incident_in):
    """The closed loop handed the item to the grid worker (feedback) and back to the department (a
    failed check) without telling either: it waited until someone looked, or until it was overdue."""
    from grids import services
    from grids.services import incident_notify_step

    incident = incident_in("handling")
    before = set(cast.department_user.notifications.values_list("key", flat=True))
    services.incident_transition(
        incident=incident, actor=cast.department_user, action="feedback", resolution="fixed it"
    )
    feedback = incident.events.get(action="feedback")
    message = OutboxMessage.objects.get(task="grids.notify_incident_step")
    assert message.kwargs == {"incident_id": incident.pk, "event_id": feedback.pk} and message.sent_at
    notice = cast.worker_a.notifications.get(key=f"incident-step:{incident.pk}:{feedback.pk}")
    assert "check the result on site" in notice.message and notice.link.endswith(f"/{incident.code}/")
    assert not cast.worker_b.notifications.exists()  # another grid's worker
    assert incident_notify_step(incident.pk, feedback.pk) == 0  # once
    services.incident_transition(
        incident=incident, actor=cast.worker_a, action="verify", result="fail", note="still dirty"
    )
    failed = incident.events.get(action="verify")
    new = cast.department_user.notifications.exclude(key__in=before)
    assert [n.key for n in new] == [f"incident-step:{incident.pk}:{failed.pk}"]
    assert "failed the on-site check" in new.get().message
    # Moved on since (fed back again): the old event's notice is not sent any more.
    services.incident_transition(
        incident=incident, actor=cast.department_user, action="feedback", resolution="ok"
    )
    cast.department_user.notifications.all().delete()
    assert incident_notify_step(incident.pk, failed.pk) == 0
    # A passed check hands the item to the centre that closes it (its handler took no command step).
    services.incident_transition(incident=incident, actor=cast.worker_a, action="verify", result="pass")
    assert OutboxMessage.objects.filter(task="grids.notify_incident_step").count() == 4
    passed = incident.events.filter(action="verify").last()
    notice = cast.community_handler.notifications.get(key=f"incident-step:{incident.pk}:{passed.pk}")
    assert "passed the on-site check: close it" in notice.message and notice.link.endswith(
        f"/{incident.code}/"
    )
    assert not cast.street_handler.notifications.filter(key__startswith="incident-step:").exists()


@pytest.mark.django_db(transaction=True)
def test_a_passed_check_goes_to_the_level_above_when_the_only_handler_dispatched_it(cast, report):
    """A centre of one person who dispatched the item may not close it (separate duties): nobody was
    told that it waited for a sign-off, which only the centre above could give."""
    from grids import services

    incident = report()
    services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="dispatch", department=cast.police.pk
    )
    services.incident_transition(incident=incident, actor=cast.department_user, action="handle")
    services.incident_transition(
        incident=incident, actor=cast.department_user, action="feedback", resolution="cleared"
    )
    services.incident_transition(incident=incident, actor=cast.worker_a, action="verify", result="pass")
    passed = incident.events.get(action="verify")
    key = f"incident-step:{incident.pk}:{passed.pk}"
    assert cast.street_handler.notifications.filter(key=key).count() == 1
    assert not cast.community_handler.notifications.filter(key=key).exists()
    assert not cast.department_user.notifications.filter(key=key).exists()


@pytest.mark.django_db(transaction=True)
def test_a_rejection_tells_the_reporter(cast, report):
    from grids import services

    incident = report()
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="reject", note="not in our remit"
    )
    notice = cast.worker_a.notifications.get()
    assert "was rejected" in notice.message and notice.link.endswith(f"/{incident.code}/")
    assert not cast.worker_b.notifications.exists()


@pytest.mark.django_db
def test_a_grid_level_item_is_told_to_the_community_centre_that_accepts_it(cast, report, categories):
    """A category handled at grid level by default (the admin offers it): no centre sits at a grid,
    so its community's handlers, who accept it, hear of it when it is new and when it is late."""
    import datetime as dt

    from django.utils import timezone

    from grids.models import Incident, IncidentCategory
    from grids.services import incident_notify_new, incident_notify_overdue

    IncidentCategory.objects.filter(code="sanitation").update(default_level="grid")
    incident = report()
    assert (incident.level, incident.level_area) == ("grid", cast.grid_a)
    assert incident_notify_new(incident.pk) == 1
    assert incident.code in cast.community_handler.notifications.get().message
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(minutes=5))
    assert incident_notify_overdue() == 1
    assert cast.community_handler.notifications.filter(key__startswith="incident-overdue:").count() == 1
    assert not cast.street_handler.notifications.exists()
