"""The manage.py commands speak LANGUAGE_CODE (README, configuration table): their help too, the
description and each option's line, or a Chinese operator reads half of it in English."""

import re

import pytest
from django.core.management import get_commands, load_command_class
from django.utils import translation

# drf_create_token keeps DRF's English (README: scripts read its words); ranking_bench is a developer's
# benchmark (docs/benchmarks.md), not an operator's command.
ENGLISH_ON_PURPOSE = {"drf_create_token", "ranking_bench"}
COMMANDS = sorted(
    name
    for name, app in get_commands().items()
    if app in {"governance", "grids", "mediation", "petitions", "dashboards"}
    and name not in ENGLISH_ON_PURPOSE
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("name", COMMANDS)
def test_the_help_of_each_command_and_of_each_of_its_options_is_chinese_under_zh_hans(name):
    with translation.override("zh-hans"):
        command = load_command_class(get_commands()[name], name)
        parser = command.create_parser("manage.py", name)
        texts = {"description": parser.description or ""}
        for action in parser._actions:
            if action.help and action.dest not in {
                "help",
                "version",
                "verbosity",
                "settings",
                "pythonpath",
                "traceback",
                "no_color",
                "force_color",
                "skip_checks",
            }:
                texts[action.dest] = str(action.help)
    assert texts["description"]
    assert {dest: text for dest, text in texts.items() if not CHINESE.search(text)} == {}
