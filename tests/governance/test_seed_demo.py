"""manage.py seed_demo: its help says what each scale builds (the command itself is exercised by
tests/governance/test_embedded_default.py and the demo tests of each app)."""

import pytest
from django.core.management import CommandError, call_command, load_command_class

from governance import demo


def _help() -> str:
    command = load_command_class("governance", "seed_demo")
    return " ".join(command.create_parser("manage.py", "seed_demo").format_help().split())


def test_the_help_describes_every_scale_from_its_definition():
    text = _help()
    assert set(demo.SCALES) == {"small", "city"}
    assert (
        "small: 2 districts, 3 streets per district, 3-4 communities per street, 4-6 grids per community; "
        "for trying the platform and for tests" in text
    )
    assert "city: 12 districts, 9-13 streets per district, 11-15 communities per street, 3-5 grids" in text
    assert "months of records before today, 1 to 60" in text


def test_months_outside_one_to_sixty_are_refused_before_anything_is_built():
    with pytest.raises(CommandError, match="--months must be between 1 and 60"):
        call_command("seed_demo", "--months", "0")


@pytest.mark.django_db
def test_a_real_city_with_the_demo_code_is_never_seeded_into():
    """340100000000 is Hefei's real code: a city imported with it was taken for the demo's, and the
    seeding wrote into its areas or stopped with a traceback."""
    from governance.models import Area, User

    Area.objects.create(code=demo.CITY_CODE, name="合肥市", level=Area.Level.CITY)
    with pytest.raises(CommandError, match=r"340100000000 \(合肥市\) holds the demo city's code"):
        call_command("seed_demo", "--areas-only")
    assert Area.objects.count() == 1 and not User.objects.filter(username__startswith="demo_").exists()


def test_the_options_help_speaks_the_site_s_language():
    """The command's description was Chinese under zh-hans while the help of each option stayed
    English ("size of the city", "random seed", "skip the apps' records")."""
    from django.utils import translation

    with translation.override("zh-hans"):
        text = _help()
    for english in ("size of the city", "districts", "random seed", "months of records", "skip the apps"):
        assert english not in text, english
    assert "small：2 个区，每区 3 个街道，每街道 3-4 个社区，每社区 4-6 个网格" in text
    assert "city：12 个区，每区 9-13 个街道" in text


@pytest.mark.django_db
def test_the_demo_city_is_named_with_full_width_brackets_and_an_older_demo_is_still_its_own():
    """The demo city was '合肥市(示例)', half-width brackets in a Chinese UI: a new demo is
    '合肥市（示例）'. A demo database seeded under the old name is still taken for the demo (seeded
    again, nothing built twice), while a real city under the code is still refused (above)."""
    from io import StringIO

    from governance.models import Area, User

    call_command("seed_demo", "--areas-only", stdout=StringIO())
    assert Area.objects.get(code=demo.CITY_CODE).name == "合肥市（示例）"
    areas = Area.objects.count()
    Area.objects.filter(code=demo.CITY_CODE).update(name="合肥市(示例)")  # seeded before this change
    out = StringIO()
    call_command("seed_demo", "--areas-only", stdout=out)
    assert "Areas already present" in out.getvalue()
    assert Area.objects.count() == areas and User.objects.filter(username="demo_city").exists()
    for name in ("合肥市", "合肥市(示例) ", "合肥市（示例"):
        Area.objects.filter(code=demo.CITY_CODE).update(name=name)
        with pytest.raises(CommandError, match="holds the demo city's code"):
            call_command("seed_demo", "--areas-only", stdout=StringIO())
