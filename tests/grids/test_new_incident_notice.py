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
