"""The admin shows a dispute case without its parties' personal data, cannot search or filter by it,
and has no page for parties (reveals go through the logged case page and API)."""

from django.contrib import admin

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
