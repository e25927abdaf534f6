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
