"""The admin shows a petition without who brought it, cannot search or filter by the petitioners'
data or hashes, and has no page for petitioners (reveals go through the logged petition page and API)."""

from django.contrib import admin

from petitions.models import Petitioner
from tests.base import assert_the_admin_hides_people
from tests.petitions.conftest import ID_1


def test_the_admin_shows_searches_and_filters_petitions_without_their_petitioners(pet, client):
    petition = pet.register()
    person = petition.petitioners.get()
    assert not admin.site.is_registered(Petitioner)
    assert_the_admin_hides_people(
        client,
        pet.cast.admin,
        record=petition,
        people_url="/admin/petitions/petitioner/",
        raw=["王建国", ID_1, "13812345678", "春晖路12号"],
        hashes=[person.id_hash, person.phone_hash],
        lookups={
            "petitioners__id_hash": person.id_hash,
            "petitioners__phone_hash__startswith": person.phone_hash[:8],
            "petitioners__name": "王建国",
        },
    )


def test_the_admins_petition_page_reads_in_chinese(pet, client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    petition = pet.register()
    client.force_login(pet.cast.admin)
    html = client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    assert "可申请复核截止时间" in html and "复核期限" in html and "登记人" in html
    assert "Re review" not in html and "object (" not in html
    # The timeline's steps and states by their labels, as on the pages, not their codes.
    from django.utils import translation

    from petitions.models import ACTION_LABELS, Petition

    with translation.override("zh-hans"):
        action, status = str(ACTION_LABELS["register"]), str(Petition.Status.REGISTERED.label)
    inline = html[html.index('id="events-0"') if 'id="events-0"' in html else html.index("events-group") :]
    assert f"<p>{action}</p>" in inline and f"<p>{status}</p>" in inline
    assert "<p>register</p>" not in inline and "<p>registered</p>" not in inline


def test_the_admin_shows_a_petitions_texts_with_the_numbers_in_them_masked(pet, client):
    # A superuser is not one who may reveal: the admin showed the content, the reply, the extension
    # reason and the timeline's notes as typed, ID numbers and phones included, and logged nothing.
    from governance.models import PersonalDataAccess
    from petitions.models import Petition

    typed = f"本人身份证{ID_1}，电话13812345678"
    petition = pet.register(content=f"工地夜间施工噪音扰民。{typed}")
    Petition.objects.filter(pk=petition.pk).update(reply_text=typed, extension_reason=typed)
    petition.events.update(note=typed)
    client.force_login(pet.cast.admin)
    html = client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    assert ID_1 not in html and "13812345678" not in html
    masked = "本人身份证1101**********002X，电话138****5678"
    assert html.count(masked) == 4  # content, reply, extension reason, the registration's note
    assert "工地夜间施工噪音扰民" in html
    assert not PersonalDataAccess.objects.exists()
