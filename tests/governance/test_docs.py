"""The README and docs/*.md are what a newcomer runs and types: their concrete claims are checked against
the code here, a class at a time, so that a renamed command, option, page or make target cannot leave
a stale line behind."""

import re
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROJECT_APPS = ("governance", "grids", "mediation", "petitions", "dashboards")
# argparse's and Django's own options, which every command takes.
STOCK_OPTIONS = {
    "--help",
    "--version",
    "--verbosity",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
    "--skip-checks",
}


def _readme_commands_table() -> dict[str, str]:
    """The README's "Other commands" table: each row's text by the manage.py command it names."""
    section = (ROOT / "README.md").read_text().split("## Other commands", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        found = re.match(r"\| `manage\.py ([a-z_]+)", line)
        if found:
            rows[found.group(1)] = rows.get(found.group(1), "") + line
    return rows


def _project_commands() -> dict[str, str]:
    return {name: app for name, app in get_commands().items() if app in PROJECT_APPS}


def test_every_management_command_of_the_project_and_each_of_its_options_is_in_the_readme():
    commands = _project_commands()
    assert {"seed_demo", "rollup", "load_holidays", "drf_create_token"} <= set(commands)
    rows = _readme_commands_table()
    assert sorted(set(commands) - set(rows)) == [], "commands without a row in README's 'Other commands'"
    assert sorted(set(rows) - set(commands)) == [], "rows naming a command that does not exist"
    missing = []
    for name, app in commands.items():
        parser = load_command_class(app, name).create_parser("manage.py", name)
        for action in parser._actions:
            long_options = [o for o in action.option_strings if o.startswith("--")]
            documented = any(option in rows[name] for option in long_options)
            if long_options and not set(long_options) & STOCK_OPTIONS and not documented:
                missing.append(f"{name} {long_options[0]}")
    assert missing == []


def _documented_paths():
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            for found in re.finditer(
                r"`(?:(?:GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD) )?(/[\w\-/{}<>.]*)", line
            ):
                path = found.group(1)
                if path.startswith(("/app/", "/dev/", "/usr/", "/etc/", "/var/")):
                    continue  # files in the image or on the host, not pages
                yield f"{doc.name}:{number}", path


# Prefixes named as such ("everything under /api/v1/"), which are no page of their own.
PATH_PREFIXES = {"/api/", "/api/v1/", "/api/v1/stats/", "/<app>/"}


def test_every_page_and_endpoint_path_the_docs_name_exists():
    checked, wrong = 0, []
    for where, path in _documented_paths():
        if path in PATH_PREFIXES or re.fullmatch(r"/\d+/", path):
            continue
        # Placeholders ({code}, <incident code>) stand for a value: a number fits every converter
        # the URLs use (int, str, slug).
        concrete = re.sub(r"\{[^}]*\}|<[^>]*>?", "1", path)
        for candidate in (concrete, concrete + "/"):  # docs/api.md names a path without its slash on purpose
            try:
                resolve(candidate)
                break
            except Resolver404:
                continue
        else:
            wrong.append(f"{where}: {path}")
        checked += 1
    assert checked > 50
    assert wrong == []


def test_every_make_target_the_docs_name_is_in_the_makefile():
    targets = set(re.findall(r"^([a-z]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = {
        (doc.name, target) for doc in DOCS for target in re.findall(r"`make ([a-z]+)\b", doc.read_text())
    }
    assert {"run", "test", "bench"} <= {target for _, target in named}
    assert sorted(f"{doc}: make {target}" for doc, target in named if target not in targets) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_the_docs_name_only_files_that_exist(doc):
    """A path of the repository (``governance/env.py``, ``tests/...::test_name``) that a doc names
    is there; static files are named by their path under ``static/``."""
    wrong = []
    for number, line in enumerate(doc.read_text().splitlines(), 1):
        for found in re.finditer(
            r"\b((?:governance|grids|mediation|petitions|dashboards|tests|bench|templates|static|docs|locale)"
            r"/[\w./\-]+\.(?:py|md|html|js|css|json|po|txt|csv))\b",
            line,
        ):
            path = found.group(1)
            if not ((ROOT / path).exists() or (ROOT / "static" / path).exists()):
                wrong.append(f"{number}: {path}")
    assert wrong == []


def test_the_tests_the_docs_cite_exist():
    """docs/reliability.md (and others) prove a claim by naming its test: ``tests/x.py::test_y``, and
    ``::test_z`` for another test of the same file. A renamed or deleted test leaves the claim unproven."""
    cited, wrong = 0, []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            current = None
            for found in re.finditer(r"(tests/[\w/]+\.py)?::(\w+)", line):
                current = found.group(1) or current
                if current is None:
                    continue
                source = ROOT / current
                cited += 1
                if not source.exists() or not re.search(
                    rf"^\s*(?:async )?(?:def|class) {found.group(2)}\b", source.read_text(), re.MULTILINE
                ):
                    wrong.append(f"{doc.name}:{number}: {current}::{found.group(2)}")
    assert cited > 20
    assert wrong == []


def _anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading: lower case, punctuation other
    than ``-`` and ``_`` dropped, spaces as ``-``; Chinese kept."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("doc", [d for d in DOCS if d.name != "README.md"], ids=lambda doc: doc.name)
def test_a_long_doc_opens_with_contents_that_link_each_of_its_sections(doc):
    """The docs run to hundreds of lines: a newcomer finds a section from the contents line under the
    title, which must follow the headings as they are renamed, added and removed."""
    lines = doc.read_text().splitlines()
    if len(lines) < 300:
        return
    contents = [line for line in lines if line.startswith("Contents: ")]
    assert len(contents) == 1, "no contents line under the title"
    assert lines.index(contents[0]) < next(i for i, line in enumerate(lines) if line.startswith("## "))
    linked = re.findall(r"\[([^\]]+)\]\(#([^)]+)\)", contents[0])
    headings = [line[3:] for line in lines if line.startswith("## ")]
    assert [anchor for _, anchor in linked] == [_anchor(h) for h in headings]
    assert [label for label, _ in linked] == [h.replace("`", "") for h in headings]


_RECORD_DEFAULTS = """
import json, sys
import governance.env as env
seen = {}
def recording(reader):
    def read(name, default=None, *args, **kwargs):
        seen[name] = default
        return reader(name, default, *args, **kwargs)
    return read
for attribute in dir(env):
    if attribute.startswith("env_"):
        setattr(env, attribute, recording(getattr(env, attribute)))
import governance.settings
json.dump(seen, sys.stdout, default=repr)
"""


def recorded_defaults(tmp_path) -> dict:
    """The default each env_*() call of the settings passes, by variable name (JSON values)."""
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _RECORD_DEFAULTS],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_readme_configuration_table_gives_each_variable_the_default_the_settings_give_it(tmp_path):
    """Each env_*() call of the settings, recorded with the default it passes, read in a process with
    none of the variables set: a number, word or list the code defaults to is the one the table shows.
    (Booleans are shown as 1 and 0, paths relative to the checkout.)"""
    defaults = recorded_defaults(tmp_path)
    assert defaults["SESSION_COOKIE_AGE"] == 28800 and defaults["WORKING_HOURS"] == ["08:30", "17:30"]
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = line.split(" | ")
            for name in re.findall(r"`([A-Z0-9_]+)`", cells[0]):
                rows[name] = cells[1]
    wrong = []
    for name, default in defaults.items():
        if name not in rows or default in (None, "", []) or name in {"VAR_DIR", "STATIC_ROOT", "MEDIA_ROOT"}:
            continue  # no default (required, or generated), or a path of the checkout
        if isinstance(default, bool):
            shown = [str(int(default))]
        elif isinstance(default, list):
            shown = [",".join(default), ", ".join(f"`{item}`" for item in default)]
        else:
            shown = [str(default)]
        if not any(text in rows[name] for text in shown):
            wrong.append(f"{name}: code {default!r}, README {rows[name]!r}")
    assert wrong == []
