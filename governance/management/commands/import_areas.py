"""Import areas from a GeoJSON FeatureCollection.

Everything is validated first: every bad feature is reported by its index and reason, and nothing is
written unless the whole file is good. Without ``--commit`` the command is a dry run that only reports
(as MapIt's importers do); with it, the areas are created or updated in one transaction.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from governance.codes import PARENT_LEVEL, code_errors
from governance.geo import GeometryError, validate_boundary
from governance.models import Area, SequenceCounter

LEVELS = {c for c, _label in Area.Level.choices}
NAME_MAX = Area._meta.get_field("name").max_length
MAX_COUNT = 2147483647  # PositiveIntegerField, on every database Django supports


class Command(BaseCommand):
    help = "Validate (and with --commit, import) areas from a GeoJSON FeatureCollection."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--code-field", default="code")
        parser.add_argument("--name-field", default="name")
        parser.add_argument("--level-field", default="level")
        parser.add_argument("--parent-field", default="parent", help="property with the parent's code")
        parser.add_argument("--population-field", default="population")
        parser.add_argument("--households-field", default="households")
        parser.add_argument("--commit", action="store_true", help="write the areas (default: dry run)")

    def handle(self, *args, file: Path, commit: bool, **opts):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        if not file.is_file():
            raise CommandError(f"{file}: not a file (a GeoJSON file is expected, not a folder)")
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:  # unreadable: permissions, a vanished mount
            raise CommandError(f"{file}: cannot be read: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{file}: not valid GeoJSON: {exc}") from None
        if (
            not isinstance(data, dict)
            or data.get("type") != "FeatureCollection"
            or not isinstance(data.get("features"), list)
        ):
            raise CommandError(f"{file}: expected a GeoJSON FeatureCollection with a features list")

        rows, errors = self._validate(data["features"], opts)
        if errors:
            for index, reason in errors:
                self.stderr.write(f"feature {index}: {reason}")
            raise CommandError(
                f"{len(errors)} problem(s) in {len(data['features'])} features; nothing was written"
            )
        if not commit:
            self.stdout.write(f"{len(rows)} features are valid. Dry run: nothing written (use --commit).")
            return
        created, updated = self._write(rows)
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(rows)} areas: {created} created, {updated} updated.")
        )

    def _validate(self, features: list, opts: dict) -> tuple[list[dict], list[tuple[int, str]]]:
        errors: list[tuple[int, str]] = []
        rows: list[dict] = []
        existing = {code: level for code, level in Area.objects.values_list("code", "level")}
        in_file: dict[str, str] = {}
        for index, feature in enumerate(features):
            props = feature.get("properties") if isinstance(feature, dict) else None
            if not isinstance(props, dict):
                errors.append((index, "not a Feature with properties"))
                continue
            row = {
                "index": index,
                "code": str(props.get(opts["code_field"]) or "").strip(),
                "name": str(props.get(opts["name_field"]) or "").strip(),
                "level": str(props.get(opts["level_field"]) or "").strip(),
                "parent": str(props.get(opts["parent_field"]) or "").strip() or None,
            }
            problems = []
            for key, field in (
                ("population", opts["population_field"]),
                ("households", opts["households_field"]),
            ):
                raw = props.get(field, 0)
                # A JSON whole number (or its digits as text): int() also took 12.7 (as 12) and
                # true (as 1), and a value past the column's range passed the dry run and stopped
                # --commit with a traceback.
                text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
                if raw in (None, ""):
                    row[key] = 0
                elif re.fullmatch(r"[0-9]+", text, re.ASCII) and int(text) <= MAX_COUNT:
                    row[key] = int(text)
                else:
                    problems.append(f"{key} must be a whole number from 0 to {MAX_COUNT}, got {raw!r}")
            if not row["name"]:
                problems.append("name is missing")
            elif len(row["name"]) > NAME_MAX:
                problems.append(f"name is longer than {NAME_MAX} characters")
            if row["level"] not in LEVELS:
                problems.append(f"level must be one of {', '.join(sorted(LEVELS))}, got {row['level']!r}")
            if row["code"] in in_file:
                problems.append(f"code {row['code']} appears twice in the file")
            try:
                row["boundary"] = validate_boundary(feature.get("geometry"))
            except GeometryError as exc:
                problems.append(f"geometry: {exc}")
            if row["code"]:
                in_file[row["code"]] = row["level"]
            row["problems"] = problems
            rows.append(row)
        # Parents may come from the file or the database; check codes once every code is known.
        for row in rows:
            if row["level"] in LEVELS:
                parent_level = None
                if row["parent"]:
                    parent_level = in_file.get(row["parent"]) or existing.get(row["parent"])
                    if parent_level is None:
                        row["problems"].append(
                            f"parent {row['parent']} is neither in the file nor in the database"
                        )
                if not row["parent"] or parent_level:
                    row["problems"].extend(
                        code_errors(row["code"], row["level"], row["parent"], parent_level)
                    )
            for problem in row.pop("problems"):
                errors.append((row["index"], problem))
        return rows, sorted(errors)

    @transaction.atomic
    def _write(self, rows: list[dict]) -> tuple[int, int]:
        order = {level: i for i, level in enumerate(["city", *PARENT_LEVEL])}
        created = updated = 0
        for row in sorted(rows, key=lambda r: (order[r["level"]], r["code"])):
            parent = Area.objects.get(code=row["parent"]) if row["parent"] else None
            area = Area.objects.filter(code=row["code"]).first() or Area(code=row["code"])
            is_new = area.pk is None
            area.name, area.level, area.parent = row["name"], row["level"], parent
            area.population, area.households, area.boundary = (
                row["population"],
                row["households"],
                row["boundary"],
            )
            area.full_clean()
            area.save()
            created += is_new
            updated += not is_new
        SequenceCounter.bump("geo")
        return created, updated
