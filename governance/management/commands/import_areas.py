"""Import areas from a GeoJSON FeatureCollection.

Everything is validated first: every bad feature is reported by its number (the first is 1, as a
person counts) and reason, and nothing is
written unless the whole file is good. Without ``--commit`` the command is a dry run that only reports
(as MapIt's importers do); with it, the areas are created or updated in one transaction. The report
speaks the site's language (LANGUAGE_CODE), as the geometry checks do.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from governance.codes import PARENT_LEVEL, code_errors, level_label, parent_errors
from governance.geo import GeometryError, validate_boundary
from governance.models import Area, SequenceCounter

LEVELS = {c for c, _label in Area.Level.choices}
NAME_MAX = Area._meta.get_field("name").max_length
MAX_COUNT = 2147483647  # PositiveIntegerField, on every database Django supports


def _text(props: dict, field: str, label: str, problems: list[str], *, digits: bool = False) -> str | None:
    """A property as text: a string (a code may also be a JSON whole number). An object, a list or a
    boolean was stored as its Python spelling ("{'zh': '合肥'}"); a NUL or a control character, which
    the database refuses, passed the dry run and stopped --commit with a traceback. None once the
    problem is reported (not "missing" as well)."""
    raw: Any = props.get(field)
    if raw is None:
        return ""
    if digits and isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if not isinstance(raw, str):
        problems.append(_("%(label)s must be text, got %(value)r") % {"label": label, "value": raw})
        return None
    value = raw.strip()  # a tab or line break around it (a spreadsheet's export) is no problem
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        problems.append(_("%(label)s contains a control character") % {"label": label})
        return None
    return value


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _("Validate (and with --commit, import) areas from a GeoJSON FeatureCollection.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        for option, default, what in (
            ("--code-field", "code", _("the area's division code")),
            ("--name-field", "name", _("its name")),
            ("--level-field", "level", _("its level (city, district, street, community, grid)")),
            ("--parent-field", "parent", _("the parent's code")),
            ("--population-field", "population", _("its population")),
            ("--households-field", "households", _("its households")),
            ("--in-service-from-field", "in_service_from", _("its first day in service, YYYY-MM-DD")),
            ("--in-service-until-field", "in_service_until", _("its last day in service, YYYY-MM-DD")),
        ):
            parser.add_argument(
                option,
                default=default,
                help=_("the feature property with %(what)s (default %(default)s)")
                % {"what": what, "default": default},
            )
        parser.add_argument("--commit", action="store_true", help=_("write the areas (default: dry run)"))

    def handle(self, *args, file: Path, commit: bool, **opts):
        if not file.exists():
            raise CommandError(_("%(file)s: no such file") % {"file": file})
        if not file.is_file():
            raise CommandError(
                _("%(file)s: not a file (a GeoJSON file is expected, not a folder)") % {"file": file}
            )
        try:
            # utf-8-sig: a file saved with a byte-order mark (Windows editors) is UTF-8 too.
            data = json.loads(file.read_text(encoding="utf-8-sig"))
        except OSError as exc:  # unreadable: permissions, a vanished mount
            raise CommandError(
                _("%(file)s: cannot be read: %(error)s") % {"file": file, "error": exc.strerror or exc}
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(
                _("%(file)s: not valid GeoJSON: %(error)s") % {"file": file, "error": exc}
            ) from None
        if (
            not isinstance(data, dict)
            or data.get("type") != "FeatureCollection"
            or not isinstance(data.get("features"), list)
        ):
            raise CommandError(
                _("%(file)s: expected a GeoJSON FeatureCollection with a features list") % {"file": file}
            )

        rows, errors = self._validate(data["features"], opts)
        if errors:
            for index, reason in errors:
                self.stderr.write(_("feature %(index)d: %(reason)s") % {"index": index, "reason": reason})
            raise CommandError(
                _("%(n)d problem(s) in %(features)d features; nothing was written")
                % {"n": len(errors), "features": len(data["features"])}
            )
        if not commit:
            self.stdout.write(
                _("%(n)d features are valid. Dry run: nothing written (use --commit).") % {"n": len(rows)}
            )
            return
        created, updated = self._write(rows)
        self.stdout.write(
            self.style.SUCCESS(
                _("Imported %(n)d areas: %(created)d created, %(updated)d updated.")
                % {"n": len(rows), "created": created, "updated": updated}
            )
        )

    def _validate(self, features: list, opts: dict) -> tuple[list[dict], list[tuple[int, str]]]:
        errors: list[tuple[int, str]] = []
        rows: list[dict] = []
        existing, stored_dates = {}, {}
        for code, level, start, until in Area.objects.values_list(
            "code", "level", "in_service_from", "in_service_until"
        ):
            existing[code], stored_dates[code] = level, (start, until)
        in_file: dict[str, str] = {}
        for index, feature in enumerate(features, start=1):  # "feature 1" is the first, as people count
            props = feature.get("properties") if isinstance(feature, dict) else None
            if not isinstance(props, dict) or feature.get("type") != "Feature":
                errors.append((index, _("not a Feature with properties")))
                continue
            problems: list[str] = []
            refused = {}
            for key, label, digits in (
                ("code", _("code"), True),
                ("name", _("name"), False),
                ("level", _("level"), False),
                ("parent", _("parent"), True),
            ):
                refused[key] = _text(props, opts[f"{key}_field"], label, problems, digits=digits)
            row = {"index": index, **{k: v or "" for k, v in refused.items()}}
            row["parent"] = row["parent"] or None
            for key, field in (
                ("population", opts["population_field"]),
                ("households", opts["households_field"]),
            ):
                raw = props.get(field)
                # A JSON whole number (or its digits as text): int() also took 12.7 (as 12) and
                # true (as 1), and a value past the column's range passed the dry run and stopped
                # --commit with a traceback.
                text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
                if raw in (None, ""):
                    # Not in the file: an area already there keeps its figure (boundaries redrawn
                    # without the census columns set every population to 0, and the per-10,000
                    # rates of every year without a figure of its own with it); a new area has 0.
                    row[key] = None
                elif re.fullmatch(r"[0-9]+", text, re.ASCII) and int(text) <= MAX_COUNT:
                    row[key] = int(text)
                else:
                    problems.append(
                        _("%(field)s must be a whole number from 0 to %(max)d, got %(value)r")
                        % {"field": field, "max": MAX_COUNT, "value": raw}
                    )
            dates = self._service_dates(props, opts, problems)
            row.update(dates)
            start, until = (
                d if d is not None else kept
                for d, kept in zip(dates.values(), stored_dates.get(row["code"], (None, None)), strict=True)
            )
            if start and until and until < start:
                problems.append(
                    _("in_service_until (%(until)s) is before in_service_from (%(start)s)")
                    % {"until": until.isoformat(), "start": start.isoformat()}
                )
            if refused["name"] is None:
                pass  # reported as it is
            elif not row["name"]:
                problems.append(_("name is missing"))
            elif len(row["name"]) > NAME_MAX:
                problems.append(_("name is longer than %(n)d characters") % {"n": NAME_MAX})
            if refused["code"] is not None and not row["code"]:
                # Not "code must contain digits only": there is no code to be wrong.
                problems.append(_("code is missing"))
            if refused["level"] is not None and not row["level"]:
                problems.append(_("level is missing"))
            elif row["level"] not in LEVELS and refused["level"] is not None:
                problems.append(
                    _("level must be one of %(levels)s, got %(value)r")
                    % {"levels": ", ".join(sorted(LEVELS)), "value": row["level"]}
                )
            before = existing.get(row["code"])
            if row["level"] in LEVELS and before not in (None, row["level"]):
                # Its code no longer fits (reported below); say too why no code would do (Area.clean).
                held = Area.objects.get(code=row["code"]).records_held()
                if held:
                    problems.append(
                        _(
                            "level: %(code)s is a %(level)s in the database and cannot change its level: it has %(records)s."
                        )
                        % {"code": row["code"], "level": level_label(before), "records": held}
                    )
            if row["code"] in in_file:
                problems.append(_("code %(code)s appears twice in the file") % {"code": row["code"]})
            try:
                row["boundary"] = validate_boundary(feature.get("geometry"))
            except GeometryError as exc:
                problems.append(_("geometry: %(error)s") % {"error": exc})
            if row["code"]:
                in_file[row["code"]] = row["level"]
            row["problems"] = problems
            rows.append(row)
        # Parents may come from the file or the database; check codes once every code is known.
        for row in rows:
            if row["level"] in LEVELS:
                parent_level = None
                if row["parent"]:
                    # In the file with a level of its own that is wrong (reported on its feature),
                    # the parent is not "missing": its children's codes are just not checked against it.
                    parent_level = in_file.get(row["parent"], existing.get(row["parent"]))
                    if parent_level is None:
                        row["problems"].append(
                            _("parent %(code)s is neither in the file nor in the database")
                            % {"code": row["parent"]}
                        )
                if not row["code"]:
                    # The missing code is reported above; a missing or misplaced parent still is.
                    if row["parent"] is None or parent_level in LEVELS:
                        row["problems"].extend(parent_errors(row["level"], parent_level))
                elif not row["parent"] or parent_level in LEVELS:
                    row["problems"].extend(
                        code_errors(row["code"], row["level"], row["parent"], parent_level)
                    )
            for problem in row.pop("problems"):
                errors.append((row["index"], problem))
        return rows, sorted(errors)

    @staticmethod
    def _service_dates(props: dict, opts: dict, problems: list[str]) -> dict[str, dt.date | None]:
        """The optional service dates, ISO (2026-06-15). Empty or not in the file: an area already
        there keeps its dates (as with the population; a date is cleared in the admin)."""
        dates: dict[str, dt.date | None] = {}
        for key in ("in_service_from", "in_service_until"):
            raw = props.get(opts[f"{key}_field"])
            dates[key] = None
            if raw in (None, ""):
                continue
            try:
                if not isinstance(raw, str) or not re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", raw, re.ASCII):
                    raise ValueError
                dates[key] = dt.date.fromisoformat(raw.strip())
            except ValueError:
                problems.append(
                    _("%(field)s must be a date as YYYY-MM-DD, got %(value)r")
                    % {"field": opts[f"{key}_field"], "value": raw}
                )
        return dates

    @transaction.atomic
    def _write(self, rows: list[dict]) -> tuple[int, int]:
        order = {level: i for i, level in enumerate(["city", *PARENT_LEVEL])}
        created = updated = 0
        for row in sorted(rows, key=lambda r: (order[r["level"]], r["code"])):
            parent = Area.objects.get(code=row["parent"]) if row["parent"] else None
            area = Area.objects.filter(code=row["code"]).first() or Area(code=row["code"])
            is_new = area.pk is None
            area.name, area.level, area.parent = row["name"], row["level"], parent
            area.boundary = row["boundary"]
            for key in ("population", "households"):
                if row[key] is not None or is_new:
                    setattr(area, key, row[key] or 0)
            for key in ("in_service_from", "in_service_until"):
                if row[key] is not None:
                    setattr(area, key, row[key])
            area.full_clean()
            area.save()
            created += is_new
            updated += not is_new
        SequenceCounter.bump("geo")
        return created, updated
