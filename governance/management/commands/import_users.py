"""``manage.py import_users FILE.csv [--commit]``: staff accounts and their roles from a CSV file.

Columns (a header line, English or Chinese names): username (用户名), full_name (姓名), role (角色:
a role code or its label), area_code (区域代码), department (部门, optional: id or name) and
mediation_organisation (调解组织, optional, mediators only: id or name). One row per role; a user
may have several. As import_areas, every line is checked first, every bad one reported by its
number (the header is line 1), and nothing is written unless all are good; without ``--commit``
it is a dry run. A new account gets an unusable password (no password is written anywhere): an
administrator gives each a temporary one with the admin's "Set a temporary password" action. An
existing account keeps its name and its roles; only the roles it does not hold yet are added. A
username is matched regardless of case, as the login takes it (governance.backends).
``--commit`` needs ``--actor USERNAME``, the administrator who answers for the roles: each one given
is an audit entry "role given" in their name, as when given in the admin.

Set-based: the same handful of queries for 5 rows or 11,000 (each row's role is checked by
``Membership.clean`` on objects already loaded, as the admin's form checks it).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext as _

from governance.admin import membership_state
from governance.management.actor import command_actor
from governance.models import Area, AuditEntry, Department, Membership, Role, SequenceCounter, User

COLUMNS = {
    "username": ("username", "用户名"),
    "full_name": ("full_name", "full name", "姓名"),
    "role": ("role", "角色"),
    "area_code": ("area_code", "area code", "区域代码"),
    "department": ("department", "部门"),
    "mediation_organisation": ("mediation_organisation", "mediation organisation", "调解组织"),
}
REQUIRED = ("username", "role", "area_code")
NAME_MAX = User._meta.get_field("display_name").max_length
USERNAME_MAX = User._meta.get_field("username").max_length


def role_codes() -> dict[str, str]:
    """Each role by its code and by its label in English and Chinese (lower-cased)."""
    found = {code: code for code in Role.values}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            found.update({str(label).lower(): code for code, label in Role.choices})
    return found


def read_rows(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """(line, row) for each record (the line it starts on; the header is line 1) and the header's
    problems. UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8")."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(_('The file is not UTF-8 text: save it as "CSV UTF-8".')) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CommandError(_("line 1: %(error)s") % {"error": exc}) from None
    if not header:
        raise CommandError(_("The file is empty: a header line is expected."))
    names = {alias.lower(): key for key, aliases in COLUMNS.items() for alias in aliases}
    keys = [names.get(unicodedata.normalize("NFKC", h).strip().lower()) for h in header]
    problems = [
        _("column %(name)s is not known") % {"name": h.strip()}
        for h, k in zip(header, keys, strict=True)
        if k is None and h.strip()
    ]
    problems += [
        _("column %(name)s is missing") % {"name": COLUMNS[key][0]} for key in REQUIRED if key not in keys
    ]
    rows, start = [], reader.line_num + 1
    try:
        for record in reader:
            if any(v.strip() for v in record):
                values = {k: v.strip() for k, v in zip(keys, record, strict=False) if k}
                rows.append((start, {key: values.get(key, "") for key in COLUMNS}))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CommandError(_("line %(line)d: %(error)s") % {"line": start, "error": exc}) from None
    return rows, problems


def _message(error: ValidationError) -> str:
    return " ".join(m for messages in error.message_dict.values() for m in messages)


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _("Validate (and with --commit, import) staff accounts and their roles from a CSV file.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--commit", action="store_true", help=_("write the accounts (default: dry run)"))
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help=_(
                "with --commit: the administrator (a superuser, or an active account with the admin "
                "role) who answers for these roles; each role given is written to the audit log as given "
                "by them"
            ),
        )

    def handle(self, *args, file: Path, commit: bool, actor: str | None = None, **opts):
        answering = self._actor(actor) if commit else None
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("%(file)s: cannot be read: %(error)s") % {"file": file, "error": exc.strerror or exc}
            ) from None
        rows, header_problems = read_rows(data)
        if header_problems:
            for problem in header_problems:
                self.stderr.write(_("line %(line)d: %(reason)s") % {"line": 1, "reason": problem})
            raise CommandError(_("The header is not usable; nothing was written."))
        plan, errors = self._validate(rows)
        if errors:
            for line, reason in errors:
                self.stderr.write(_("line %(line)d: %(reason)s") % {"line": line, "reason": reason})
            raise CommandError(
                _("%(n)d problem(s) in %(rows)d rows; nothing was written")
                % {"n": len(errors), "rows": len(rows)}
            )
        for line, note in plan["notes"]:
            self.stdout.write(_("line %(line)d: %(reason)s") % {"line": line, "reason": note})
        counts = {
            "users": len(plan["users"]),
            "memberships": len(plan["memberships"]),
            "organisations": len(plan["members"]),
        }
        if not commit:
            self.stdout.write(
                _(
                    "%(users)d new accounts, %(memberships)d roles and %(organisations)d organisation "
                    "memberships would be added. Dry run: nothing written (use --commit)."
                )
                % counts
            )
            return
        self._write(plan, answering)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Added %(users)d new accounts, %(memberships)d roles and %(organisations)d "
                    "organisation memberships. Give the new accounts a temporary password in the admin "
                    '(Users, action "Set a temporary password").'
                )
                % counts
            )
        )

    def _validate(self, rows: list[tuple[int, dict[str, str]]]) -> tuple[dict, list[tuple[int, str]]]:
        errors: list[tuple[int, str]] = []
        roles = role_codes()
        mediation = import_module("mediation.user_import") if apps.is_installed("mediation") else None
        # One query per table, whatever the number of rows.
        # Usernames regardless of case, as the login takes them (governance.backends): "Wang.Li" in
        # the file is the account wang.li, never a second one beside it.
        existing: dict[str, list[User]] = {}
        for u in User.objects.annotate(key=Lower("username")).filter(
            key__in={r["username"].lower() for _l, r in rows}
        ):
            existing.setdefault(u.username.lower(), []).append(u)
        users = {u.username: u for found in existing.values() for u in found}
        areas = {a.code: a for a in Area.objects.filter(code__in={r["area_code"] for _l, r in rows})}
        above = {c for a in areas.values() for c in a.path.strip("/").split("/")}
        department_keys = {r["department"] for _l, r in rows if r["department"]}
        departments = list(
            Department.objects.filter(
                Q(area__code__in=above, name__in=department_keys)
                | Q(pk__in=[int(k) for k in department_keys if k.isascii() and k.isdigit()])
            ).select_related("area")
        )
        held = {
            (m.user_id, m.role, m.area_id): m
            for m in Membership.objects.filter(user__in=users.values()).select_related("area")
        }
        organisation_keys = {r["mediation_organisation"] for _l, r in rows if r["mediation_organisation"]}
        organisations = mediation.organisations(organisation_keys) if mediation and organisation_keys else []
        in_organisations = mediation.members({u.pk for u in users.values()}) if mediation else set()

        new_users: dict[str, User] = {}
        memberships: list[Membership] = []
        members: list[tuple[str, int]] = []
        notes: list[tuple[int, str]] = []
        seen: dict[tuple[str, str, str], int] = {}
        switched_off: set[str] = set()
        spelled: dict[str, tuple[str, int]] = {}  # each username lower-cased: its first spelling, line
        for line, row in rows:
            problems: list[str] = []
            username, name = row["username"], row["full_name"]
            user = self._user(username, line, users, existing, spelled, problems)
            if user is not None:
                username = user.username
            if not username:
                problems.append(_("username is missing"))
            elif problems:
                pass  # its spelling is the row's problem: nothing more is checked of the account
            elif user is None:
                try:
                    if len(username) > USERNAME_MAX:
                        raise ValidationError(
                            _("username is longer than %(n)d characters") % {"n": USERNAME_MAX}
                        )
                    User.username_validator(username)
                except ValidationError as exc:
                    problems.append(_("username: %(error)s") % {"error": " ".join(exc.messages)})
                else:
                    if len(name) > NAME_MAX:
                        problems.append(_("full name is longer than %(n)d characters") % {"n": NAME_MAX})
                    user = new_users.get(username)
                    if user is None:
                        user = new_users[username] = User(username=username, display_name=name)
                    elif name and user.display_name and name != user.display_name:
                        problems.append(
                            _("full name %(name)s differs from %(first)s on an earlier line of this user")
                            % {"name": name, "first": user.display_name}
                        )
                    elif name:
                        user.display_name = name
            elif name and name != user.display_name:
                notes.append((line, _("%(user)s exists: the name is kept as it is") % {"user": username}))
            if user is not None and user.pk and not user.is_active and username not in switched_off:
                # Roles given to an account switched off give nothing until it is switched on again:
                # said once, so that a leaver's account in a stale file is not taken for a new colleague's.
                switched_off.add(username)
                notes.append(
                    (
                        line,
                        _(
                            "%(user)s is switched off: its roles are added, but give nothing until the "
                            "account is switched on again in the admin"
                        )
                        % {"user": username},
                    )
                )
            role = roles.get(row["role"].lower())
            if not row["role"]:
                problems.append(_("role is missing"))
            elif role is None:
                problems.append(
                    _("role %(value)s is not known: use one of %(roles)s")
                    % {
                        "value": row["role"],
                        "roles": ", ".join(f"{code} ({label})" for code, label in Role.choices),
                    }
                )
            area = areas.get(row["area_code"])
            if not row["area_code"]:
                problems.append(_("area code is missing"))
            elif area is None:
                problems.append(_("area %(code)s does not exist") % {"code": row["area_code"]})
            department = self._department(row["department"], area, departments, problems)
            organisation = None
            if row["mediation_organisation"]:
                if role != Role.MEDIATOR:
                    problems.append(_("a mediation organisation is for a mediator's role only"))
                elif mediation is None:
                    problems.append(_("mediation is not installed"))
                elif area is not None:
                    organisation = self._organisation(
                        row["mediation_organisation"], area, organisations, mediation, problems
                    )
            if role and area is not None and user is not None:
                key = (username, role, area.code)
                if key in seen:
                    problems.append(
                        _("the same role at the same area is on line %(line)d too") % {"line": seen[key]}
                    )
                seen[key] = line
                membership = Membership(user=user, role=role, area=area, department=department)
                try:
                    membership.clean()  # the admin's own rules for a role (its form calls it)
                except ValidationError as exc:
                    problems.append(_message(exc))
                before = held.get((user.pk, role, area.pk)) if user.pk else None
                if before is not None:
                    if before.department_id != (department.pk if department else None):
                        notes.append(
                            (line, _("%(user)s already holds this role: kept as it is") % {"user": username})
                        )
                elif not problems:
                    memberships.append(membership)
                if organisation is not None and (user.pk, organisation.pk) not in in_organisations:
                    members.append((username, organisation.pk))
            errors += [(line, problem) for problem in problems]
        return {
            "users": list(new_users.values()),
            "memberships": memberships,
            "members": sorted(set(members)),
            "notes": notes,
            "mediation": mediation,
        }, errors

    @staticmethod
    def _user(username, line, users, existing, spelled, problems) -> User | None:
        """The existing account ``username`` names regardless of case (None if it names none), and
        a second spelling of one username in the file, or one that could be either of two old
        accounts differing only in case, as the row's problem."""
        if not username:
            return None
        key = username.lower()
        first = spelled.setdefault(key, (username, line))
        if first[0] != username:
            problems.append(
                _("username %(name)s differs only in case from %(first)s on line %(line)d")
                % {"name": username, "first": first[0], "line": first[1]}
            )
            return None
        found = existing.get(key, [])
        if username in users:
            return users[username]
        if len(found) > 1:
            problems.append(
                _("username %(name)s matches several accounts differing only in case: %(accounts)s")
                % {"name": username, "accounts": ", ".join(sorted(u.username for u in found))}
            )
            return None
        return found[0] if found else None

    @staticmethod
    def _department(key: str, area: Area | None, departments: list[Department], problems: list[str]):
        """The department named by id, or by name at the role's area (or, for the admin's rule to name,
        above it)."""
        if not key or area is None:
            return None
        if key.isascii() and key.isdigit():
            found = [d for d in departments if str(d.pk) == key]
        else:
            above = area.path.strip("/").split("/")
            named = [d for d in departments if d.name == key and d.area.code in above]
            # The nearest area's: the role's own, else the closest above it.
            nearest = max((above.index(d.area.code) for d in named), default=None)
            found = [d for d in named if above.index(d.area.code) == nearest]
        if not found:
            problems.append(_("department %(value)s does not exist at this area or above") % {"value": key})
            return None
        if not found[0].is_active:
            problems.append(_("department %(value)s is deactivated") % {"value": key})
        return found[0]

    @staticmethod
    def _organisation(key: str, area: Area, organisations: list, mediation, problems: list[str]):
        if key.isascii() and key.isdigit():
            found = [o for o in organisations if str(o.pk) == key]
        else:
            found = [o for o in organisations if o.name == key and o.area.path.startswith(area.path)]
            found = found or [o for o in organisations if o.name == key]
        if not found:
            problems.append(_("mediation organisation %(value)s does not exist") % {"value": key})
            return None
        if len(found) > 1:
            problems.append(
                _("mediation organisation %(value)s is the name of several: give its id") % {"value": key}
            )
            return None
        refused = mediation.organisation_refused(found[0], area)
        if refused:
            problems.append(refused)
            return None
        return found[0]

    @staticmethod
    def _actor(username: str | None) -> User:
        """The administrator a --commit is written in the name of: who may see what rests on roles, so
        each one given is an audit entry (as the admin writes one), and an entry names who gave it."""
        return command_actor(
            username, _("--commit needs --actor USERNAME: the administrator who answers for these roles.")
        )

    @staticmethod
    @transaction.atomic
    def _write(plan: dict, actor: User) -> None:
        for user in plan["users"]:
            # No password anyone knows: the admin's "Set a temporary password" gives the first one,
            # shown once on its page, and the user must change it at the first sign-in.
            user.password = make_password(None)
        User.objects.bulk_create(plan["users"], batch_size=2000)
        # bulk_create set the new users' keys (PostgreSQL and SQLite return them); the memberships
        # were built on the same objects: assigned again, each takes its user's key and keeps the
        # object (setting ``user_id`` alone would drop it and the audit entry would load it again).
        for membership in plan["memberships"]:
            membership.user = membership.user
        Membership.objects.bulk_create(plan["memberships"], batch_size=2000)
        # Each role given is an audit entry "role given", as the admin writes it (governance.admin),
        # in one insert per batch: a role's grant names who answers for it however it was made.
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    actor=actor,
                    action=AuditEntry.Action.MEMBERSHIP_ADD,
                    object_type=Membership._meta.label_lower,
                    object_id=str(membership.pk),
                    after=membership_state(membership),
                )
                for membership in plan["memberships"]
            ],
            batch_size=2000,
        )
        if plan["members"]:
            ids = dict(
                User.objects.filter(username__in={u for u, _o in plan["members"]}).values_list(
                    "username", "pk"
                )
            )
            plan["mediation"].members_add([(ids[u], o) for u, o in plan["members"]])
        # bulk_create sends no post_save: the statistics API's Last-Modified follows this counter.
        SequenceCounter.bump("memberships")
