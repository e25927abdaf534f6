"""The admin shows a dispute case without its parties' personal data, cannot search or filter by it,
and has no page for parties (reveals go through the logged case page and API)."""

from django.contrib import admin
from django.utils import timezone

from mediation.indicators import case_changes
from mediation.models import DisputeParty
from tests.base import assert_the_admin_hides_people
from tests.mediation.conftest import ID_1


def test_the_admin_shows_searches_and_filters_cases_without_their_parties(med, client):
    case = med.accepted()
    party = case.parties.get(position=0)
    assert not admin.site.is_registered(DisputeParty)
    assert_the_admin_hides_people(
        client,
        med.cast.admin,
        record=case,
        people_url="/admin/mediation/disputeparty/",
        raw=["张三丰", ID_1, "13812345678", "春晖路12号"],
        hashes=[party.id_hash],
        lookups={
            "parties__id_hash": party.id_hash,
            "parties__id_hash__startswith": party.id_hash[:8],
            "parties__name": "张三丰",
            "parties__phone": "13812345678",
        },
    )


def _change_form(client, case, **fields):
    """The admin change form of ``case`` as the browser would post it, with ``fields`` changed."""
    url = f"/admin/mediation/disputecase/{case.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        fs = formset.formset
        data.update({f"{fs.prefix}-{k}": v for k, v in fs.management_form.initial.items()})
        for i, form in enumerate(fs.forms):
            data[f"{fs.prefix}-{i}-id"] = form.instance.pk
            data[f"{fs.prefix}-{i}-case"] = case.pk
    for name in ("escalation_prevented", "group_defused"):
        if getattr(case, name):
            data[name] = "on"
    for name in ("escalation_persons", "group_persons"):
        data[name] = getattr(case, name)
    for name, value in fields.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return url, data


def test_a_mistaken_prevention_record_is_corrected_in_the_admin_with_a_reason(med, client):
    case = med.accepted()
    case.transition(
        action="record_prevention", actor=case.mediator, escalation_prevented=True, escalation_persons=3
    )
    recorded_at = case.prevention_recorded_at
    client.force_login(med.cast.admin)

    # No reason, persons missing for a flag set: both named, nothing saved.
    url, data = _change_form(client, case, group_defused=True, group_persons=0)
    page = client.post(url, data)
    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    assert set(errors) == {"group_persons", "correction_reason"}
    case.refresh_from_db()
    assert (case.group_defused, case.events.filter(action="correct_prevention").count()) == (False, 0)

    # The escalation was not prevented after all; the persons go with the flag.
    url, data = _change_form(client, case, escalation_prevented=False, correction_reason="录入错误")
    page = client.post(url, data)
    assert page.status_code == 302, page.context and page.context["adminform"].form.errors
    case.refresh_from_db()
    assert (case.escalation_prevented, case.escalation_persons) == (False, 0)
    assert case.prevention_recorded_at == recorded_at  # the month it counted in is still found
    event = case.events.get(action="correct_prevention")
    assert (event.actor, event.note, event.from_status, event.to_status) == (
        med.cast.admin,
        "录入错误",
        "accepted",
        "accepted",
    )
    assert event.data["before"]["escalation_persons"] == 3
    assert event.data["after"]["escalation_prevented"] is False
    assert str(event.action_label) == "correct the prevention record (admin)"

    assert timezone.localdate(recorded_at).replace(day=1) in case_changes(event.at, event.at)


def test_a_fact_added_by_a_correction_counts_in_the_month_of_the_first_record(med, client):
    """Each fact counts in the month it was recorded; one the mediator mistyped as another was there
    at the first record, so the correction dates it so and the nightly run recomputes that month."""
    import datetime as dt

    from mediation.models import DisputeCase
    from tests.base import shift_back

    case = med.accepted()
    case.transition(
        action="record_prevention", actor=case.mediator, escalation_prevented=True, escalation_persons=3
    )
    shift_back(DisputeCase.objects.filter(pk=case.pk), 40, "prevention_recorded_at", "escalation_recorded_at")
    case.refresh_from_db()
    first = case.prevention_recorded_at
    client.force_login(med.cast.admin)
    url, data = _change_form(
        client,
        case,
        escalation_prevented=False,
        group_defused=True,
        group_persons=9,
        correction_reason="应为群体性纠纷",
    )
    assert client.post(url, data).status_code == 302
    case.refresh_from_db()
    assert (case.group_defused, case.group_recorded_at) == (True, first)
    assert (case.escalation_prevented, case.escalation_recorded_at) == (False, first)  # its month is found
    event = case.events.get(action="correct_prevention")
    month = timezone.localdate(first).replace(day=1)
    assert month in case_changes(event.at - dt.timedelta(seconds=1), event.at)


def test_a_correction_naming_more_persons_raises_the_people_involved_as_a_record_does(med, client):
    """The persons of a record are people the dispute involves, whether the mediator records them
    or an admin corrects them: the case must not read "people involved: 2" above "group dispute
    defused: 12 persons". A correction naming fewer keeps the number (it never shrinks)."""
    case = med.accepted()
    case.transition(
        action="record_prevention", actor=case.mediator, escalation_prevented=True, escalation_persons=1
    )
    case.refresh_from_db()
    before = case.persons_involved
    client.force_login(med.cast.admin)
    url, data = _change_form(
        client, case, group_defused=True, group_persons=before + 10, correction_reason="漏记群体性纠纷"
    )
    assert client.post(url, data).status_code == 302
    case.refresh_from_db()
    assert case.persons_involved == before + 10
    event = case.events.get(action="correct_prevention")
    assert (event.data["before"]["persons_involved"], event.data["after"]["persons_involved"]) == (
        before,
        before + 10,
    )

    url, data = _change_form(client, case, group_persons=1, correction_reason="人数录错")
    assert client.post(url, data).status_code == 302
    case.refresh_from_db()
    assert (case.group_persons, case.persons_involved) == (1, before + 10)


def test_a_case_without_a_prevention_record_stays_read_only_in_the_admin(med, client):
    case = med.accepted()
    events = case.events.count()
    client.force_login(med.cast.admin)
    url, data = _change_form(client, case, escalation_prevented=True, escalation_persons=2)
    assert "correction_reason" not in client.get(url).context["adminform"].form.fields
    client.post(url, data)
    case.refresh_from_db()
    assert (case.escalation_prevented, case.events.count()) == (False, events)


def test_the_admins_case_page_names_its_sessions_and_events(med, client):
    case = med.accepted()
    client.force_login(med.cast.admin)
    html = client.get(f"/admin/mediation/disputecase/{case.pk}/change/").content.decode()
    assert "object (" not in html  # "DisputeEvent object (7)" named nothing
    accepted = case.events.get(action="accept")
    assert str(accepted) == f"accept · {timezone.localtime(accepted.at):%Y-%m-%d %H:%M}"
    assert str(accepted) in html


def test_the_admin_shows_a_cases_texts_with_the_numbers_in_them_masked(med, client):
    # A superuser is not one who may reveal: the admin showed the case's, its sessions' and its
    # timeline's texts as typed, ID numbers and phones included, and logged nothing.
    from governance.models import PersonalDataAccess
    from mediation import services
    from mediation.models import DisputeCase

    typed = f"张三丰身份证{ID_1}，电话13812345678"
    case = med.accepted(description=f"楼上漏水。{typed}")
    texts = ["decline_reason", "outcome_note", "agreement_facts", "agreement_terms", "performance_method"]
    DisputeCase.objects.filter(pk=case.pk).update(**dict.fromkeys(texts, typed))
    services.dispute_record_session(
        case=case,
        actor=case.mediator,
        held_at=timezone.now(),
        place="调解室",
        attendees=typed,
        summary=typed,
        next_step=typed,
    )
    case.events.update(note=typed)
    client.force_login(med.cast.admin)
    html = client.get(f"/admin/mediation/disputecase/{case.pk}/change/").content.decode()
    assert ID_1 not in html and "13812345678" not in html
    masked = "张**身份证1101**********002X，电话138****5678"
    events = case.events.count()
    assert html.count(masked) == 1 + len(texts) + 3 + events  # the case's, the session's, the notes
    assert "楼上漏水" in html
    assert not PersonalDataAccess.objects.exists()


def test_the_admin_keeps_a_mediation_organisation_at_a_level_its_kind_serves(cast, client, settings):
    # A new city's administrator made a "street mediation centre" at a grid and a district centre at
    # a community: the admin took both. A grid has no mediation organisation (the committees are the
    # communities' and villages'), a street centre is a street's and a district centre a district's.
    from mediation.models import MediationOrganisation

    settings.LANGUAGE_CODE = "en"
    client.force_login(cast.admin)

    def add(kind, area, name="调解组织"):
        return client.post(
            "/admin/mediation/mediationorganisation/add/",
            {
                "name": name,
                "kind": kind,
                "area": area.pk,
                "is_active": "on",
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
            },
        )

    for kind, area, wanted in (
        ("committee", cast.grid_a, "not a grid"),
        ("street_centre", cast.grid_a, "not a grid"),
        ("street_centre", cast.community_a1a, "A street mediation centre serves a street"),
        ("district_centre", cast.street_a1, "A district mediation centre serves a district"),
    ):
        response = add(kind, area)
        assert response.status_code == 200, (kind, area)
        errors = response.context["adminform"].form.errors
        assert wanted in " ".join(errors.get("area", [])), (kind, area, errors)
    assert not MediationOrganisation.objects.exists()
    for kind, area in (
        ("committee", cast.community_a1a),
        ("street_centre", cast.street_a1),
        ("district_centre", cast.district_a),
        ("police_joint", cast.street_a1),
        ("industry", cast.district_a),
    ):
        assert add(kind, area, name=f"{kind}组织").status_code == 302, (kind, area)
    assert MediationOrganisation.objects.count() == 5
