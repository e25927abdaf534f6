"""The shared kernel: areas, people, departments, numbering, personal-data audit, notifications.

Every other app builds on these models; this module imports no other app.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import Signal, receiver
from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import TokenProxy

from governance import codes
from governance.access import ScopedQuerySet
from governance.geo import GeometryError, centroid_of, validate_boundary

MAX_ID = 2**63 - 1  # the largest primary key (bigint)


def record_id(value) -> int | None:
    """A primary key given as user input (a form value, a JSON field): a whole number from 1 to
    MAX_ID, else None. Not ``str.isdigit``, which also takes "²" (and "١") that ``int`` then refuses
    or reads."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 19):
            return None
        number = int(text)
    return number if 0 < number <= MAX_ID else None


class LocalizedName:
    """For the kinds of things the product ships with a list of (incident and dispute categories):
    ``name`` in Chinese, the primary language, and ``name_en`` for pages in English. ``label`` is
    the one to show; a name added in the admin without an English one shows in both languages."""

    name: str
    name_en: str

    @property
    def label(self) -> str:
        return self.name_en if self.name_en and (get_language() or "").startswith("en") else self.name

    def __str__(self) -> str:
        return self.label


class Area(models.Model):
    """An administrative or grid area: city > district > street > community > grid.

    ``path`` is the materialised path of codes from the root ("340100000000/340102000000/.../"), so a
    whole subtree is one prefix filter served by the ``path`` pattern index. Codes follow the national
    statistical division code (DOMAIN.md); a grid is its community's code plus three digits.
    """

    class Level(models.TextChoices):
        CITY = codes.CITY, _("city")
        DISTRICT = codes.DISTRICT, _("district / county")
        STREET = codes.STREET, _("street / township")
        COMMUNITY = codes.COMMUNITY, _("community / village")
        GRID = codes.GRID, _("grid")

    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=100, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False, default=0)
    population = models.PositiveIntegerField(_("population"), default=0)
    households = models.PositiveIntegerField(_("households"), default=0)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    centroid_lat = models.FloatField(_("centroid latitude"), null=True, blank=True, editable=False)
    centroid_lng = models.FloatField(_("centroid longitude"), null=True, blank=True, editable=False)
    # The days an area exists on the ground: a grid drawn in June 2026, a grid merged away in September.
    # Both inclusive, empty for "always". The rollup fills a zero count (and a rank) only for periods
    # of which at least one day is in service: a grid drawn in June is no last place for 2025, a
    # grid merged away none for the months after (its own records still count wherever they fall).
    in_service_from = models.DateField(
        _("in service from"), null=True, blank=True, help_text=_("First day in service; empty: always.")
    )
    in_service_until = models.DateField(
        _("in service until"),
        null=True,
        blank=True,
        help_text=_("Last day in service; empty: still in service."),
    )

    SCOPE_AREA_FIELD = ""
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["path"], name="area_path_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["parent", "code"], name="area_parent_code"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @staticmethod
    def in_service_on(day: dt.date, last: dt.date | None = None) -> Q:
        """The areas in service on ``day`` (or on at least one day from ``day`` to ``last``; no
        dates: always), as a filter. The rollup's zero fill asks the same of each period."""
        return (Q(in_service_from__isnull=True) | Q(in_service_from__lte=last or day)) & (
            Q(in_service_until__isnull=True) | Q(in_service_until__gte=day)
        )

    def serves_on(self, day: dt.date, last: dt.date | None = None) -> bool:
        """Whether this area is in service on ``day`` (or on a day from ``day`` to ``last``):
        ``in_service_on`` for an area at hand."""
        return (self.in_service_from is None or self.in_service_from <= (last or day)) and (
            self.in_service_until is None or self.in_service_until >= day
        )

    def clean(self) -> None:
        before = (
            Area.objects.filter(pk=self.pk).values("code", "parent_id", "level").first() if self.pk else None
        )
        self._refuse_moving_a_subtree(before)  # first: it says why, whatever the new code's format
        self._refuse_a_level_change(before)  # and before the code's format, which the level decides
        parent = self.parent
        parent_level = parent.level if parent else None
        errors: dict[str, list[str]] = {}
        misplaced = codes.parent_errors(self.level, parent_level)
        if misplaced:
            # Named on the field that was changed: a grid given a street for parent is the parent's
            # fault, a grid made a community under its community the level's.
            level_changed = before is not None and (before["level"], before["parent_id"]) != (
                self.level,
                self.parent_id,
            )
            only_level = level_changed and before["parent_id"] == self.parent_id
            errors["level" if only_level else "parent"] = misplaced
        code_problems = [
            e
            for e in codes.code_errors(self.code, self.level, parent.code if parent else None, parent_level)
            if e not in misplaced
        ]
        if code_problems:
            errors["code"] = code_problems
        if self.in_service_from and self.in_service_until and self.in_service_until < self.in_service_from:
            errors["in_service_until"] = [
                _("The last day in service (%(until)s) is before the first (%(start)s).")
                % {"until": self.in_service_until.isoformat(), "start": self.in_service_from.isoformat()}
            ]
        if self.boundary is not None:
            try:
                self.boundary = validate_boundary(self.boundary)
            except GeometryError as exc:
                errors["boundary"] = [str(exc)]
        if errors:
            raise ValidationError(errors)

    def _refuse_moving_a_subtree(self, before: dict | None) -> None:
        # An area with sub-areas keeps its code and parent. Its descendants' paths (the scope of every
        # prefix filter) and their codes (a child's code starts with its parent's) are derived from them,
        # so a new code or parent would leave the subtree with stale paths, out of everyone's scope.
        # Refusing is the safe choice over rewriting the descendants' paths: their codes would be wrong
        # too, and a recode is a data migration (codes are printed on case numbers, in exports, ...).
        if before is None or (before["code"], before["parent_id"]) == (self.code, self.parent_id):
            return
        if not Area.objects.filter(parent_id=self.pk).exists():
            return
        message = _("An area with sub-areas cannot change its code or parent.")
        errors = {}
        if before["code"] != self.code:
            errors["code"] = message
        if before["parent_id"] != self.parent_id:
            errors["parent"] = message
        raise ValidationError(errors)

    def _refuse_a_level_change(self, before: dict | None) -> None:
        # The level is what everything recorded at an area was recorded for: its sub-areas sit one
        # level below it, an incident's grid is a grid and its responsible area the centre of the
        # incident's level, a grid worker's role is held at a grid, a handler's at a centre, a
        # scheme scores areas of one level. Changed under them, children sat at the wrong level (the
        # rollup stopped: "not one level below their parent"), incidents hung on a community, a grid
        # worker saw a street. So the level changes only on an empty leaf, one that nothing holds (an
        # area created at the wrong level by mistake); the statistics the rollup derives are rebuilt.
        if before is None or before["level"] == self.level:
            return
        held = self.records_held()
        if held:
            raise ValidationError(
                {
                    "level": _(
                        "The level of this area cannot change: it has %(records)s, recorded for a "
                        "%(level)s. Only an area with nothing recorded at it can change its level."
                    )
                    % {"records": held, "level": codes.level_label(before["level"])}
                }
            )

    def records_held(self) -> str:
        """The kinds of records kept at this area, named in a list ("" for none): those that keep it from being deleted
        (``on_delete=PROTECT``: sub-areas, memberships, departments, incidents, cases, petitions,
        survey answers, assessment schemes and scores...), whatever app they are in. The statistics
        the rollup derives (indicator values, monthly facts: CASCADE) are not among them. One
        ``EXISTS`` per kind of record."""
        held: list[str] = []
        for relation in Area._meta.get_fields(include_hidden=True):
            if (
                not (relation.auto_created and relation.one_to_many)
                or relation.on_delete is not models.PROTECT
            ):
                continue
            model = relation.related_model
            name = str(_("sub-areas") if model is Area else model._meta.verbose_name_plural)
            if name not in held and model._base_manager.filter(**{relation.field.name: self.pk}).exists():
                held.append(name)
        return pgettext("list separator", ", ").join(held)

    def save(self, *args, **kwargs) -> None:
        # Derived columns only (no business logic): path, depth and centroid follow from the fields.
        self.path = (self.parent.path if self.parent_id else "") + self.code + "/"
        self.depth = self.parent.depth + 1 if self.parent_id else 0
        if self.boundary:
            self.centroid_lat, self.centroid_lng = centroid_of(self.boundary)
        super().save(*args, **kwargs)

    def ancestors(self) -> models.QuerySet[Area]:
        """All areas above this one, root first, in one query (codes are in the path)."""
        return Area.objects.filter(code__in=self.path.strip("/").split("/")[:-1]).order_by("depth")

    def subtree(self) -> models.QuerySet[Area]:
        return Area.objects.filter(path__startswith=self.path)


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    HANDLER = "handler", _("handler")
    MEDIATOR = "mediator", _("mediator")
    PETITION_OFFICER = "petition_officer", _("petition officer")
    ANALYST = "analyst", _("analyst")
    ADMIN = "admin", _("administrator")


class User(AbstractUser):
    """A member of staff. What they may see is the union of the subtrees of their memberships."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    # Set with a temporary password an administrator gave (admin: "Set a temporary password"): the
    # user is sent to change it before anything else (PasswordChangeRequiredMiddleware).
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Signed in, the user must choose a new password before anything else."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    def save(self, *args, **kwargs):
        # set_password() keeps the new raw password in _password until the save (for the validators'
        # password_changed); a login that only upgrades the stored hash clears it before saving. So
        # every way a password is set (the admin's two forms, its own "change password", the
        # changepassword command, the shell) ends the user's API tokens: see user_tokens_revoke.
        password_set = (self._password is not None or self._password_disabled) and self.pk is not None
        super().save(*args, **kwargs)
        self._password_disabled = False
        if password_set:
            from governance.services import user_tokens_revoke

            user_tokens_revoke(user=self, via="password set")

    _password_disabled = False

    def set_unusable_password(self) -> None:
        # The admin's "Password-based authentication: disabled" (Django 5.1+) ended the sessions but
        # left the API tokens working: locking someone out is when a stolen key must stop too.
        super().set_unusable_password()
        self._password_disabled = True

    def memberships_cached(self) -> list[Membership]:
        """The user's memberships with their areas, loaded once per request/object."""
        cached = getattr(self, "_memberships_cache", None)
        if cached is None:
            cached = list(self.memberships.select_related("area", "department"))
            self._memberships_cache = cached
        return cached

    def roles(self) -> set[str]:
        return {m.role for m in self.memberships_cached()}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles() & set(roles))

    def is_administrator(self) -> bool:
        """A superuser, or the admin role at some area: who may start a rollup, see who started one,
        and act beyond the usual roles on an item in their scope."""
        return self.is_superuser or self.has_role(Role.ADMIN)


# Asked before a department is deactivated (``Department.clean``), with ``department``: each app
# whose items a department must still act on (governance imports none of them) returns a message
# saying what is still waiting there, or None. Any message refuses the deactivation.
department_closing = Signal()

# Sent after an administrator switched a grid worker off or moved them out of grids, with
# ``grid_ids``: the grids they no longer work in. The apps whose items wait on a grid's workers
# tell whoever acts in their place (grids: the on-site checks, ``incident_notify_checks_left``).
grid_workers_left = Signal()


def worker_grid_ids(user_id: int) -> set[int]:
    """The grids ``user_id`` works in as an active grid worker (none once switched off)."""
    return set(
        Membership.objects.filter(user_id=user_id, user__is_active=True, role=Role.GRID_WORKER).values_list(
            "area_id", flat=True
        )
    )


class Department(models.Model):
    """A functional department or a centre at an area, to which items are dispatched or routed."""

    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("functional department")
        CENTRE = "centre", _("governance centre")
        OTHER = "other", _("other unit")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FUNCTIONAL)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="departments"
    )
    is_active = models.BooleanField(_("active"), default=True)

    SCOPE_AREA_FIELD = "area"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["area__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="department_unique_name_per_area")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        before = (
            Department.objects.filter(pk=self.pk).values("area_id", "is_active").first() if self.pk else None
        )
        # Deactivated while items still wait for it (a petition to accept or answer within its legal
        # deadline), with its people in it, it kept them: the petition office takes an item back only
        # from a department with nobody left, and nobody was told the items needed another one.
        if before is not None and before["is_active"] and not self.is_active:
            waiting = [
                str(m) for _receiver, m in department_closing.send(sender=Department, department=self) if m
            ]
            if waiting:
                raise ValidationError({"is_active": waiting})
        # Moved to another district in the admin, a department took its people's roles (held at the
        # old area, which Membership.clean forbids) and its open items along: the new district saw the
        # old one's items, and its own items dispatched there had nobody who could see them.
        if before is not None and self.area_id is not None and before["area_id"] != self.area_id:
            raise ValidationError(
                {
                    "area": _(
                        "A department keeps its area: its people's roles and the items sent to it "
                        "belong there. Create the department in the other area (and deactivate "
                        "this one when its items are done)."
                    )
                }
            )


class Membership(models.Model):
    """A role held by a user at an area (and optionally within a department of that area)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="memberships"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
        help_text=_(
            "Leave it empty for the centre's own handlers, who accept, dispatch and close the area's "
            "items. With a department, the role works for that department: the items dispatched to it."
        ),
    )
    # The head (负责人) of the department this membership is in: the person who approves what the
    # rules reserve to "the head of the agency", such as extending a petition's reply limit
    # (信访工作条例 art. 37, docs/petitions.md). Only meaningful with a department.
    is_head = models.BooleanField(
        _("head of the department"),
        default=False,
        help_text=_("Leads this department and approves, for example, extensions of petition reply limits."),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "area"], name="membership_unique_role_area"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.area}"

    def clean(self) -> None:
        # The scope is the area's whole subtree: a grid worker placed at a community would see all of
        # it, and the grid pages find no grid of theirs. A handler works at a centre (DESIGN.md
        # section 4); a department is one of the area's own.
        if self.area_id is None:
            return
        errors = {}
        if self.role == Role.GRID_WORKER and self.area.level != codes.GRID:
            errors["area"] = _("A grid worker works in a grid: choose a grid.")
        elif self.role == Role.HANDLER and self.area.level == codes.GRID:
            errors["area"] = _("A handler works at a community, street, district or city centre, not a grid.")
        if self.is_head and self.department_id is None:
            errors["is_head"] = _("Only a member of a department can be its head: choose the department.")
        if self.department_id is not None and self.department.area_id != self.area_id:
            errors["department"] = _("This department belongs to %(area)s, not to the area of this role.") % {
                "area": self.department.area.name
            }
        if errors:
            raise ValidationError(errors)


class SequenceCounter(models.Model):
    """Counters for gapless human-readable numbers (INC-2026-000123) and for cache versions.

    A number is taken by an UPDATE ... SET value = value + 1 inside the creating transaction: the row
    lock serialises concurrent creators, and a rolled-back creation gives its number back, so the
    sequence has no gaps.
    """

    key = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField(default=0)
    value = models.PositiveBigIntegerField(default=0)
    # When a cache version was last bumped (``bump``): the statistics API's Last-Modified covers the
    # changes to areas and memberships that no rollup run records. Numbering leaves it empty.
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # (Named for the admin's permission lists and log filter, which showed the class name.)
        verbose_name = _("sequence counter")
        verbose_name_plural = _("sequence counters")
        constraints = [models.UniqueConstraint(fields=["key", "year"], name="sequence_unique_key_year")]

    @classmethod
    def next_value(cls, key: str, year: int = 0) -> int:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("SequenceCounter.next_value must run inside the creating transaction")
        for _attempt in range(3):
            if cls.objects.filter(key=key, year=year).update(value=F("value") + 1):
                return cls.objects.filter(key=key, year=year).values_list("value", flat=True).get()
            try:
                with transaction.atomic():  # savepoint: a concurrent first insert loses only this step
                    cls.objects.create(key=key, year=year, value=1)
                return 1
            except IntegrityError:
                continue
        raise RuntimeError(f"could not take a number for {key}/{year}")

    @classmethod
    def current(cls, key: str, year: int = 0) -> int:
        return cls.objects.filter(key=key, year=year).values_list("value", flat=True).first() or 0

    @classmethod
    def bump(cls, key: str) -> None:
        """Move a cache version on and stamp when: one UPDATE once the row exists (an area import
        saving thousands of areas bumps "areas" for each)."""
        now = timezone.now()
        if not cls.objects.filter(key=key, year=0).update(value=F("value") + 1, changed_at=now):
            with transaction.atomic():
                cls.next_value(key, 0)
                cls.objects.filter(key=key, year=0).update(changed_at=now)


def next_number(prefix: str, when=None) -> str:
    """``PREFIX-YYYY-NNNNNN``, gapless per prefix and (local) year. Call inside the creating transaction."""
    year = timezone.localtime(when or timezone.now()).year
    return f"{prefix}-{year}-{SequenceCounter.next_value(prefix, year):06d}"


def _logged_model(label: str):
    """The model an ``object_type`` (a model's ``label_lower``, as the audit and reveal logs store it)
    names, or None for a model that is gone."""
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def record_kind(label: str) -> str:
    """The kind of record an ``object_type`` names, as the admin names it (``用户``); the label itself
    for a model that is gone."""
    model = _logged_model(label)
    return label if model is None else str(model._meta.verbose_name)


class PersonalDataAccess(models.Model):
    """One reveal of masked personal data: who saw what, when and why. Never deleted by the app."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40)
    record = models.CharField(
        _("record"), max_length=40, help_text=_("number of the case the person belongs to")
    )
    fields = models.CharField(_("fields revealed"), max_length=200)
    reason = models.TextField(_("reason"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    @property
    def fields_label(self) -> str:
        """The details seen, by their labels (身份证号、联系电话), not their field names; a name the model
        no longer has, as it is."""
        model = _logged_model(self.object_type)
        if model is None:
            return self.fields
        meta = model._meta
        labels = []
        for name in self.fields.split(","):
            try:
                labels.append(str(meta.get_field(name).verbose_name))
            except FieldDoesNotExist:
                labels.append(name)
        return pgettext("list separator", ", ").join(labels)

    def __str__(self) -> str:
        return f"{self.record} · {self.fields_label} · {timezone.localtime(self.at):%Y-%m-%d %H:%M}"

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="pda_object")]


class Notification(models.Model):
    """An in-app notification. ``key`` makes creation idempotent: a task run twice notifies once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=120)
    message = models.CharField(_("message"), max_length=300)  # in the site's language (LANGUAGE_CODE)
    # The message in each language of the site, written with it (``governance.services.notify``): the
    # page shows every reader theirs, whatever the language of whoever caused the notice.
    texts = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_unique_user_key")]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread"),
            # /notifications/ pages a user's notices newest first: a district centre collects tens of
            # thousands over the years, which the page sorted in full for every page.
            models.Index(fields=["user", "-created_at"], name="notification_user_created"),
        ]

    @property
    def text(self) -> str:
        """The message in the reader's language (the active one), else in the site's."""
        return self.texts.get(get_language()) or self.message


class OutboxMessage(models.Model):
    """Work that must not be lost: written in the same transaction as the record that causes it,
    then handed to Celery. If the broker is down the row stays and the relay sends it later."""

    task = models.CharField(max_length=100)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(fields=["created_at"], name="outbox_unsent", condition=Q(sent_at=None)),
            # The relay's purge of old sent rows (``outbox.purge_sent``).
            models.Index(fields=["sent_at"], name="outbox_sent", condition=Q(sent_at__isnull=False)),
        ]


class Holiday(models.Model):
    """The working-day calendar: public holidays, and weekend days that are official working days (调休)."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("is a working day"), default=False)
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"

    def clean(self) -> None:
        # A weekday is worked anyway: ticked as a working day it changes nothing, and it is the
        # holiday meant (10-01 typed with the box ticked) that goes missing from the calendar.
        if self.is_workday and self.date and self.date.weekday() < 5:
            raise ValidationError(
                {
                    "is_workday": _(
                        "%(date)s is a weekday, a working day already: only a Saturday or Sunday is made "
                        "a working day. Untick it to enter a holiday."
                    )
                    % {"date": self.date.isoformat()}
                }
            )

    @classmethod
    def missing_next_year(cls, today: dt.date) -> int | None:
        """Next year, from November on while the calendar has none of its dates, else None. The State
        Council publishes next year's holidays in November or December; until they are entered,
        working-day deadlines running into January count every weekday as worked."""
        if today.month < 11 or cls.objects.filter(date__year=today.year + 1).exists():
            return None
        return today.year + 1


@receiver([post_save, post_delete], sender=Holiday, dispatch_uid="holiday-calendar-version")
def _calendar_changed(sender, **kwargs) -> None:
    # Cache invalidation, not business logic: every process caches the working-day calendar by the
    # "calendar" counter (governance.periods). A signal catches every way a row changes: the admin's
    # form, its "delete selected" action (delete_queryset, which skipped the admin's own bump), the
    # shell. A queryset .delete() sends post_delete per row; .update() and bulk_create send nothing, so
    # code using them calls ``governance.deadlines.calendar_edited`` itself. The bump is in the caller's transaction: other
    # processes see the new version together with the new rows. The running deadlines computed from
    # the old calendar are brought up to date by a task queued in the same transaction.
    from governance.deadlines import calendar_edited

    calendar_edited()


@receiver([post_save, post_delete], sender=Area, dispatch_uid="area-version")
def _area_changed(sender, **kwargs) -> None:
    # Cache invalidation: the statistics API's validators (dashboards.api) name areas by code and
    # name and read the tree for the scope. Bulk writes (the demo) bump "areas" themselves.
    SequenceCounter.bump("areas")


@receiver([post_save, post_delete], sender=Membership, dispatch_uid="membership-version")
def _membership_changed(sender, **kwargs) -> None:
    # A scope widened or narrowed changes what a statistics read answers without any rollup run:
    # its Last-Modified must move, or If-Modified-Since kept a client on the old scope's rows.
    SequenceCounter.bump("memberships")


@receiver(pre_save, sender=User, dispatch_uid="superuser-version")
def _superuser_flag_changed(sender, instance: User, update_fields=None, raw: bool = False, **kwargs) -> None:
    # A superuser sees every area: the flag is a scope, as a membership is. A sign-in saves
    # last_login alone and costs nothing here; a save that may set the flag reads the stored one.
    if raw or (update_fields is not None and "is_superuser" not in update_fields):
        return
    before = (
        sender.objects.filter(pk=instance.pk).values_list("is_superuser", flat=True).first()
        if instance.pk
        else None
    )
    if bool(before) != bool(instance.is_superuser):
        SequenceCounter.bump("memberships")


@receiver(post_delete, sender=User, dispatch_uid="superuser-deleted-version")
def _superuser_deleted(sender, instance: User, **kwargs) -> None:
    if instance.is_superuser:
        SequenceCounter.bump("memberships")


class AuditEntry(models.Model):
    """Audit of hand entries, approvals and decisions: who, when, what it was before and after."""

    # The actions recorded (governance.services.audit's callers: this app's and the assessment's),
    # labelled for the admin's list, filter and titles, which showed the codes. A code not listed
    # here is still stored and shown as it is.
    class Action(models.TextChoices):
        TOKEN_ISSUE = "token.issue", _("API token issued")
        TOKEN_REVOKE = "token.revoke", _("API tokens revoked")
        PASSWORD_CHANGE = "password.change", _("own password changed")
        PASSWORD_RESET = "password.reset", _("temporary password set")
        USER_CHANGE = "user.change", _("account status or privileges changed")
        MEMBERSHIP_ADD = "membership.add", _("role given")
        MEMBERSHIP_CHANGE = "membership.change", _("role changed")
        MEMBERSHIP_DELETE = "membership.delete", _("role taken away")
        ASSESSMENT_MANUAL_SCORE = "assessment.manual_score", _("manual score entered")
        ASSESSMENT_DEDUCTION = "assessment.deduction", _("deduction entered")
        ASSESSMENT_BONUS = "assessment.bonus", _("bonus points entered")
        ASSESSMENT_APPROVE = "assessment.approve", _("adjustment approved or rejected")
        ASSESSMENT_VETO = "assessment.veto", _("one-vote veto recorded")
        ASSESSMENT_VETO_WITHDRAW = "assessment.veto_withdraw", _("one-vote veto withdrawn")
        ASSESSMENT_PUBLISH = "assessment.publish", _("assessment results published")
        PERSONAL_DATA_ERASE = "personal_data.erase", _("personal data erased after retention")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    action = models.CharField(_("action"), max_length=60, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    def __str__(self) -> str:
        return (
            f"{self.get_action_display()} · {record_kind(self.object_type)} {self.object_id} · "
            f"{timezone.localtime(self.at):%Y-%m-%d %H:%M}"
        )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            # The admin's log, newest first (Django adds the key to the order): every entry was
            # sorted for each page.
            models.Index(fields=["-at", "-id"], name="audit_at"),
        ]


class ApiToken(TokenProxy):
    """An API token as the admin shows it (``governance.admin.TokenAdmin``). A token is a password for
    the API, and Django's admin names an object by ``str()`` in its titles, breadcrumbs, delete pages
    and in its change log: DRF's token is named by its whole key (now the key's digest,
    ``services.token_digest``). This one by its user and the digest's first characters, enough to
    tell two apart."""

    class Meta:
        proxy = True
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} · {self.key[:4]}…"
