from __future__ import annotations

from functools import cache

from axes.admin import AccessAttemptAdmin as BaseAccessAttemptAdmin
from axes.admin import AccessFailureLogAdmin as BaseAccessFailureLogAdmin
from axes.admin import AccessLogAdmin as BaseAccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS, PAGE_VAR
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm as BaseAdminPasswordChangeForm
from django.contrib.auth.forms import AdminUserCreationForm, SetUnusablePasswordMixin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from governance import pii
from governance.admin_names import LabelledObjects, sign_in_label
from governance.forms import AdminLoginForm, HolidayNoticeForm
from governance.holiday_calendars import notice_days
from governance.models import (
    ApiToken,
    Area,
    AuditEntry,
    Department,
    Holiday,
    Membership,
    PersonalDataAccess,
    Role,
    SequenceCounter,
    User,
    grid_workers_left,
    record_kind,
    worker_grid_ids,
)
from governance.services import (
    audit,
    calendar_days_add,
    calendar_days_preview,
    user_password_reset,
    user_tokens_revoke,
)

# The admin's own login page checks the username's length as the site's does (governance.forms), and
# the admin is named after the product, in the reader's language, not "Django administration".
admin.site.login_form = AdminLoginForm
admin.site.site_header = _("Grid governance administration")
admin.site.site_title = _("Grid governance administration")
admin.site.index_title = _("Administration")


def _login(request, extra_context=None, _login=admin.site.login):
    """The admin's sign-in page, except for a user signed in without admin access: Django showed them
    the sign-in form saying they were not authorised and might sign in as someone else (a password
    typed there signed them out of their own account); now a plain 403 saying why, with the way home."""
    if request.user.is_authenticated and not admin.site.has_permission(request):
        raise PermissionDenied(
            _("The administration is for administrators only: your account has no access to it.")
        )
    return _login(request, extra_context)


admin.site.login = _login


class LabelledAutocomplete(AutocompleteJsonView):
    """The admin's search-as-you-type boxes, each result named by its model admin's
    ``autocomplete_label`` where it has one (a department with its area: every district has its
    公安分局), else as Django names it."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(self.model_admin, "autocomplete_label", None)
        return {**result, "text": label(obj)} if label else result


admin.site.autocomplete_view = lambda request: LabelledAutocomplete.as_view(admin_site=admin.site)(request)


def department_label(department: Department) -> str:
    return _("%(department)s (%(area)s)") % {"department": department.name, "area": department.area.name}


def user_label(user: User) -> str:
    if not user.display_name:
        return user.username
    return _("%(name)s (%(username)s)") % {"name": user.display_name, "username": user.username}


class DepartmentPicker:
    """A ModelAdmin mixin: a membership's department picked by typing its name or its area's
    (DepartmentAdmin.search_fields), shown with its area, where a box took its database id; and its
    user, where there is a box for one, by their username or display name, shown with both."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "department":
            field.queryset = field.queryset.select_related("area")
            field.label_from_instance = department_label
        elif db_field.name == "user":
            field.label_from_instance = user_label
        return field


class BoundaryField(forms.JSONField):
    """The boundary box: empty for no boundary. Django's JSON field shows a missing value as "null",
    and a GeoJSON pasted after it was refused as invalid JSON."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "level",
        "parent",
        "population",
        "households",
        "in_service_from",
        "in_service_until",
    ]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    # The admin joins only non-null foreign keys by itself: the city's parent is NULL, so each row's
    # parent was one more query (100 on a page).
    list_select_related = ["parent"]
    readonly_fields = ["path", "centroid_lat", "centroid_lng"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "boundary":
            kwargs["form_class"] = BoundaryField
            kwargs["help_text"] = _(
                "A GeoJSON Polygon or MultiPolygon in WGS84, each position [longitude, latitude] "
                "(longitude first); empty: no boundary."
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # Once an area has sub-areas its code and parent are fixed (Area.clean refuses them too): the
        # descendants' paths and codes derive from them, and save() recomputes only this area's path.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk and obj.children.exists():
            fields += ["code", "parent"]
        return fields

    # Every process's point -> grid index holds the grids' codes and boundaries: a change to either,
    # or a grid gone, makes it rebuild (a recoded grid was still located under its old code: a 404).
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if {"boundary", "code", "level"} & set(form.changed_data):
            SequenceCounter.bump("geo")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        SequenceCounter.bump("geo")

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        SequenceCounter.bump("geo")


# Staff who keep memberships (given "add/change/delete membership") give other people their roles;
# they do not give themselves one (a clerk made themselves a city-wide handler and read every
# incident), nor give, change or take the administrator role, which acts everywhere in its area
# (grids, mediation, petitions): those are the superusers'. The same rule for the membership pages,
# the memberships inline of a user's page and the bulk delete.
def grants_refused(granter, membership: Membership, role: str | None = None) -> list[tuple[str, str]]:
    """(field, message) pairs for what ``granter`` may not do to ``membership`` (being given
    ``role``); empty when they may."""
    if granter.is_superuser:
        return []
    refused = []
    if membership.user_id is not None and membership.user_id == granter.pk:
        refused.append(("user", _("You may not give or change your own roles: ask another administrator.")))
    if Role.ADMIN in {role, membership.role if membership.pk else None}:
        refused.append(("role", _("Only a superuser gives, changes or takes the administrator role.")))
    return refused


class GrantForm(forms.ModelForm):
    granter = None  # the signed-in user, set per request by get_form / get_formset

    def clean(self):
        data = super().clean()
        initial = Membership.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        # The user as posted (the membership pages) or as the inline sets it (the user's page).
        membership = Membership(
            pk=initial.pk if initial else None,
            role=initial.role if initial else "",
            user_id=getattr(data.get("user"), "pk", None) or self.instance.user_id,
        )
        for field, message in grants_refused(self.granter, membership, data.get("role")):
            self.add_error(field if field in self.fields else None, message)
        return data


class GrantFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk and grants_refused(form.granter, form.instance):
                raise ValidationError(
                    _("Only a superuser takes the administrator role, and nobody their own roles.")
                )


# Who may see what rests on memberships: each one given, changed or taken, and each change of an
# account's own flags, is an audit entry with the state before and after (Django's admin log says only
# "Changed role for membership …", and nothing of a membership once deleted).
def membership_state(membership: Membership) -> dict:
    return {
        "user": membership.user.username,
        "role": membership.role,
        "area": membership.area.code,
        "department": str(membership.department) if membership.department_id else None,
        "is_head": membership.is_head,
    }


def _states(pks) -> dict[int, dict]:
    rows = Membership.objects.filter(pk__in=[pk for pk in pks if pk]).select_related(
        "user", "area", "department"
    )
    return {m.pk: membership_state(m) for m in rows}


def audit_membership(actor, pk: int, before: dict | None, after: dict | None) -> None:
    if before == after:
        return
    action = (
        "membership.add" if before is None else "membership.delete" if after is None else "membership.change"
    )
    audit(actor=actor, action=action, obj=Membership(pk=pk), before=before, after=after)


USER_FLAGS = ["is_active", "is_staff", "is_superuser"]


def _worker_grids(membership_pks) -> set[int]:
    """The grids of those of these memberships that are a grid worker's, before they change."""
    return set(
        Membership.objects.filter(pk__in=list(membership_pks), role=Role.GRID_WORKER).values_list(
            "area_id", flat=True
        )
    )


def _workers_left(grid_ids: set[int]) -> None:
    """A grid worker left these grids (switched off, moved, their role removed): the apps tell whoever
    checks in the place of a grid left without a worker (``grid_workers_left``; nothing for a grid
    that keeps one)."""
    if grid_ids:
        grid_workers_left.send(sender=User, grid_ids=grid_ids)


def _warn_centres_unstaffed(request, memberships) -> None:
    """A handler given a department works for it (the items dispatched there), not for the area's
    centre: a new city's administrator put a community's handler in its "社区综治中心" department,
    and the community's new reports reached nobody. Saved as asked, with a warning per area whose
    centre has no handler of its own (an active user holding the role without a department)."""
    areas = {m.area for m in memberships if m.role == Role.HANDLER and m.department_id is not None}
    staffed = set(
        Membership.objects.filter(
            role=Role.HANDLER, area__in=areas, department__isnull=True, user__is_active=True
        ).values_list("area_id", flat=True)
    )
    for area in sorted(areas - {a for a in areas if a.pk in staffed}, key=lambda a: a.code):
        messages.warning(
            request,
            _(
                "%(area)s has no handler of its own centre: a handler with a department works for "
                "that department and is not told of the area's new reports. Give the centre's "
                "handlers the role with the department left empty."
            )
            % {"area": area.name},
        )


def _granting(form_class, request):
    return type(form_class.__name__, (form_class,), {"granter": request.user})


class MembershipInline(DepartmentPicker, admin.TabularInline):
    model = Membership
    form = GrantForm
    formset = GrantFormSet
    # The area is picked by its code or name (AreaAdmin.search_fields): a raw id box took the
    # database id, which nobody giving 6,000 grid workers their grids knows. So is the department.
    autocomplete_fields = ["area", "department"]
    extra = 1

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _granting(formset.form, request)
        return formset

    def _own(self, request, obj) -> bool:
        return obj is not None and obj.pk == request.user.pk and not request.user.is_superuser

    # A staff member's own page shows their roles, not a way to change them.
    def has_add_permission(self, request, obj=None) -> bool:
        return not self._own(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not self._own(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not self._own(request, obj) and super().has_delete_permission(request, obj)


# Django names each permission once, in English, when it creates it ("Can add petitioner"): the
# user's and the group's pages listed them so after the translated app and model. The four actions
# every model has are named in the reader's language; another permission keeps its own name.
PERMISSION_ACTIONS = {
    "add": pgettext_lazy("permission", "add"),
    "change": pgettext_lazy("permission", "change"),
    "delete": pgettext_lazy("permission", "delete"),
    "view": pgettext_lazy("permission", "view"),
}


def permission_label(permission: Permission) -> str:
    action, _sep, model = permission.codename.partition("_")
    if action in PERMISSION_ACTIONS and model == permission.content_type.model:
        return f"{permission.content_type} | {PERMISSION_ACTIONS[action]}"
    return str(permission)


class PermissionLabels:
    """A ModelAdmin mixin: its permission choices named by ``permission_label``, with their app and
    model in the same query (each was one more, by content type)."""

    # DRF's TokenProxy exists only for DRF's admin page, replaced here by the API tokens' (ApiToken):
    # its permissions, named as the token's own ("认证令牌 | 令牌"), were each listed twice and give nothing.
    HIDDEN_PERMISSIONS = Q(content_type__app_label="authtoken", content_type__model="tokenproxy")

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Permission:
            field.queryset = field.queryset.exclude(self.HIDDEN_PERMISSIONS).select_related("content_type")
            field.label_from_instance = permission_label
        return field


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PermissionLabels, BaseGroupAdmin):
    pass


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["username", "display_name"]


class UserChangeForm(BaseUserChangeForm):
    """Django's change form, refusing a username another account bears in another case, as the add
    form does: the login takes a username regardless of case (governance.backends), and a rename to
    "Worker_A" beside worker_a made two accounts only the exact spelling told apart."""

    def clean_username(self):
        username = self.cleaned_data.get("username")
        others = User.objects.exclude(pk=self.instance.pk)
        if username and others.filter(username__iexact=username).exists():
            raise ValidationError(self.instance.unique_error_message(User, ["username"]))
        return username


class AdminPasswordChangeForm(BaseAdminPasswordChangeForm):
    """Django's form with its password switch's help text left lazy: Django adds its warning to the
    lazy text when the module is imported, which fixes the text in the language active then (the
    site's Chinese on every English page too) and leaves the warning itself untranslated."""

    usable_password_help_text = format_lazy(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )


@admin.register(User)
class UserAdmin(PermissionLabels, BaseUserAdmin):
    inlines = [MembershipInline]
    # A new user is given the name they are known by on the same page as their account and roles.
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "display_name", "usable_password", "password1", "password2"],
            },
        )
    ]
    list_display = ["username", "display_name", "is_active", "is_staff"]
    # People are known by their display names (网格员 王小明), not by their usernames, which are ids
    # (centre_340102001002); Django's first and last names are left empty here. The same in every
    # list that names a user (memberships, tokens, logs) and in the user pickers (a membership's).
    search_fields = ["username", "display_name"]
    autocomplete_label = staticmethod(user_label)
    # The display name beside the username, as on the add page; Django's "Personal info" (first and
    # last name, e-mail: nothing shows or sends them) is left out: an administrator renaming someone
    # filled those in, and the display name, under them at the bottom, kept the old name.
    fieldsets = [
        (None, {"fields": ["username", "display_name", "password", "must_change_password"]}),
        *BaseUserAdmin.fieldsets[2:],  # permissions, important dates
    ]
    actions = ["set_temporary_password"]

    # Staff who keep users (given "change user") do not give privileges: the superuser and staff
    # flags and the admin's permissions are the superusers' to set, and a superuser's account is
    # theirs to change. Django's default let such staff tick "superuser" on their own account and
    # undo every limit the admin keeps (SuperusersOnly).
    PRIVILEGES = ["is_superuser", "is_staff", "user_permissions", "groups"]

    def get_readonly_fields(self, request, obj=None):
        # must_change_password is set with a temporary password (the action below), cleared by the
        # user's own change: shown, not ticked by hand.
        fields = [*super().get_readonly_fields(request, obj), "must_change_password"]
        return fields if request.user.is_superuser else [*fields, *self.PRIVILEGES]

    # No e-mail on an intranet for a "forgot my password" link: an administrator gives the user a
    # one-time password, shown on this answer only (not in a message, which the session would keep),
    # and the user chooses their own at the next sign-in. Not one's own account (My account changes
    # it) nor, for staff, a superuser's (which has_change_permission keeps to superusers).
    @admin.action(description=_("Set a temporary password"), permissions=["change"])
    def set_temporary_password(self, request, queryset):
        shown, refused = [], []
        for user in queryset.order_by("username"):
            if user.pk == request.user.pk or not self.has_change_permission(request, user):
                refused.append(user.username)
            else:
                shown.append((user, user_password_reset(user=user, actor=request.user)))
        if refused:
            messages.error(
                request,
                _(
                    "No temporary password for %(users)s: not your own account (change it on My account), "
                    "and only a superuser's for a superuser."
                )
                % {"users": ", ".join(refused)},
            )
        if not shown:
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Temporary passwords"),
            "opts": self.model._meta,
            "shown": shown,
        }
        return TemplateResponse(request, "admin/governance/user/temporary_passwords.html", context)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    # Deactivating a user ends their API tokens too (their sessions end by themselves): see
    # governance.services.user_tokens_revoke. Setting a password does so in User.save.
    def save_model(self, request, obj, form, change):
        # The first password is typed by the administrator, who knows it: like a temporary one, the
        # user replaces it at the first sign-in (PasswordChangeRequiredMiddleware).
        if not change and obj.has_usable_password():
            obj.must_change_password = True
        before = User.objects.filter(pk=obj.pk).values(*USER_FLAGS).first() if change else None
        # The grids this user checks items in before the change (see save_related).
        request.worker_grids_before = worker_grid_ids(obj.pk) if change else set()
        super().save_model(request, obj, form, change)
        after = {flag: getattr(obj, flag) for flag in USER_FLAGS}
        if before is not None and before != after:
            audit(actor=request.user, action="user.change", obj=obj, before=before, after=after)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_tokens_revoke(user=obj, actor=request.user, via="deactivated")

    def save_related(self, request, form, formsets, change):
        # A grid worker switched off or moved out of a grid (its memberships inline) leaves the
        # items fed back there without anyone told to check them: the community's centre hears.
        super().save_related(request, form, formsets, change)
        _workers_left(getattr(request, "worker_grids_before", set()) - worker_grid_ids(form.instance.pk))

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        before = _states(f.instance.pk for f in formset.initial_forms)
        super().save_formset(request, form, formset, change)
        after = _states(before)
        for pk, state in before.items():
            audit_membership(request.user, pk, state, after.get(pk))
        for membership in formset.new_objects:
            audit_membership(request.user, membership.pk, None, membership_state(membership))
        _warn_centres_unstaffed(request, formset.new_objects + [m for m, _fields in formset.changed_objects])


# A token is a password for the API: the list showed every key in clear to whoever may view tokens,
# and "add" made one for any user, for the admin to use as them. Keys are now stored as digests
# (governance.services.token_digest); the list shows a digest's first characters (enough to tell two
# apart), a token is made only by its user at the token endpoint, and deleting one revokes it.
admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class TokenAdmin(BaseTokenAdmin):
    list_display = ["masked_key", "user", "created"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__display_name"]
    fields = ["user", "masked_key", "created"]
    readonly_fields = fields

    @admin.display(description=_("key"))
    def masked_key(self, obj: ApiToken) -> str:
        return f"{obj.key[:4]}…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(DepartmentPicker, admin.ModelAdmin):
    list_display = ["user", "role", "area", "department", "is_head"]
    list_filter = ["role", "is_head"]
    # The user by their username or display name (UserAdmin.search_fields), as the area and the
    # department: a box took the user's database id, looked up in a second window.
    autocomplete_fields = ["user", "area", "department"]  # as on a user's page (MembershipInline)
    # ``department`` may be NULL, so the admin left it out of its join: one query per row that has one.
    list_select_related = ["user", "area", "department"]
    search_fields = ["user__username", "user__display_name", "area__code", "area__name"]
    form = GrantForm

    def get_form(self, request, obj=None, **kwargs):
        return _granting(super().get_form(request, obj, **kwargs), request)

    def save_model(self, request, obj, form, change):
        before = _states([obj.pk]).get(obj.pk)
        grids = _worker_grids([obj.pk])
        super().save_model(request, obj, form, change)
        audit_membership(request.user, obj.pk, before, membership_state(obj))
        _workers_left(grids)
        _warn_centres_unstaffed(request, [obj])

    def delete_model(self, request, obj):
        pk, before = obj.pk, _states([obj.pk]).get(obj.pk)
        grids = _worker_grids([pk])
        super().delete_model(request, obj)
        audit_membership(request.user, pk, before, None)
        _workers_left(grids)

    def delete_queryset(self, request, queryset):
        before = _states(queryset.values_list("pk", flat=True))
        grids = _worker_grids(before)
        super().delete_queryset(request, queryset)
        for pk, state in before.items():
            audit_membership(request.user, pk, state, None)
        _workers_left(grids)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not (obj and grants_refused(request.user, obj))

    # The bulk delete asks this of every row too (Django's get_deleted_objects).
    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and grants_refused(request.user, obj))


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "area", "is_active"]
    list_filter = ["kind", "is_active"]
    autocomplete_fields = ["area"]  # by code or name, as a membership's (MembershipInline)
    search_fields = ["name", "area__name"]
    autocomplete_label = staticmethod(department_label)

    def get_queryset(self, request):
        # The area each row and each search-as-you-type result names: in the same query.
        return super().get_queryset(request).select_related("area")


def _date_runs(days: list) -> str:
    """Dates as runs of consecutive days (2031-01-26–2031-02-02, 2031-10-11): a whole notice entered
    twice listed 30 dates one by one."""
    runs: list[list] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return ", ".join(a.isoformat() if a == b else f"{a.isoformat()}–{b.isoformat()}" for a, b in runs)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    # Every change bumps the "calendar" counter through Holiday's post_save/post_delete signals
    # (governance.models), the changelist's bulk delete included.
    list_display = ["date", "name", "is_workday"]
    date_hierarchy = "date"

    def _deadlines_follow(self, request) -> None:
        # The refresh itself is queued by the signal (governance.deadlines); the admin is told of it.
        self.message_user(
            request,
            _("The deadlines of the steps still running are being recomputed with the changed calendar."),
            messages.INFO,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._deadlines_follow(request)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._deadlines_follow(request)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        self._deadlines_follow(request)

    def changelist_view(self, request, extra_context=None):
        year = Holiday.missing_next_year(timezone.localdate())
        if year is not None:
            self.message_user(
                request,
                _(
                    "The calendar has no dates for %(year)s yet. When the State Council's notice is "
                    "published, enter it with “Enter a year's notice” (manage.py load_holidays loads "
                    "the years this release knows)."
                )
                % {"year": year},
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "notice/",
                self.admin_site.admin_view(self.notice_view),
                name="governance_holiday_notice",
            ),
            *super().get_urls(),
        ]

    def notice_view(self, request):
        """A year's notice entered in one go, as it is printed (governance.holiday_calendars): every
        line checked first, every problem shown on its box with its line, nothing saved on any; then
        a preview of what would be saved, nothing written (``calendar_days_preview``); then, posted
        again from it with ``confirm``, all its dates in one transaction, the dates already entered
        kept and reported. Typed from a long notice, a wrong month was saved (and the running
        deadlines recounted) before anyone saw the dates as the calendar would hold them."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        # A post is always checked (an empty one too: ``request.POST or None`` showed the blank page
        # again), and a refused one answers 400 as every other form of the platform does.
        posted = request.method == "POST"
        form = HolidayNoticeForm(
            request.POST if posted else None, initial={"year": timezone.localdate().year + 1}
        )
        if posted and form.is_valid() and "confirm" not in request.POST:
            if "change" in request.POST:  # "Change the notice": the form again, as typed
                return self._notice_page(request, form, status=200)
            notice = form.notice
            preview = calendar_days_preview(days=notice_days(notice), year=notice.year)
            context = {
                **self._notice_context(request, form),
                "notice": notice,
                "preview": preview,
                "kept_dates": _date_runs([row.date for row, _w, _n in preview.kept]),
            }
            return TemplateResponse(request, "admin/governance/holiday/notice_preview.html", context)
        if posted and form.is_valid():
            notice = form.notice
            result = calendar_days_add(
                days=notice_days(notice),
                actor=request.user,
                note=str(_("From the notice: %(source)s") % {"source": notice.source}),
            )
            self._notice_report(request, notice.year, result)
            return HttpResponseRedirect(
                reverse("admin:governance_holiday_changelist") + f"?date__year={notice.year}"
            )
        return self._notice_page(request, form, status=400 if posted else 200)

    def _notice_context(self, request, form: HolidayNoticeForm) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": _("Enter a year's notice"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
        }

    def _notice_page(self, request, form: HolidayNoticeForm, *, status: int) -> TemplateResponse:
        context = self._notice_context(request, form)
        return TemplateResponse(request, "admin/governance/holiday/notice.html", context, status=status)

    def _notice_report(self, request, year: int, result) -> None:
        self.message_user(
            request,
            _("Notice for %(year)d: %(added)d dates added, %(kept)d already in the calendar and kept.")
            % {"year": year, "added": len(result.added), "kept": len(result.kept)},
            messages.SUCCESS if result.added else messages.INFO,
        )
        if result.kept:
            self.message_user(
                request,
                _("Already in the calendar: %(dates)s.")
                % {"dates": _date_runs([row.date for row, _w, _n in result.kept])},
                messages.INFO,
            )
        for row, is_workday, name in result.kept:
            if row.is_workday != is_workday:
                level, text = (
                    messages.WARNING,
                    _(
                        "%(date)s: the calendar has it as %(said)s (%(entered)s), the notice as %(notice)s "
                        "(%(name)s); kept as entered: change it in the list if the notice is right."
                    ),
                )
            elif row.name != name:
                level, text = (
                    messages.INFO,
                    _(
                        "%(date)s: already entered as %(entered)s, the notice names it %(name)s; kept as entered."
                    ),
                )
            else:
                continue
            self.message_user(
                request,
                text
                % {
                    "date": row.date.isoformat(),
                    "said": _("a working day") if row.is_workday else _("a holiday"),
                    "notice": _("a working day") if is_workday else _("a holiday"),
                    "entered": row.name or "—",
                    "name": name,
                },
                level,
            )
        if result.added:
            self._deadlines_follow(request)


class TimelineInline(admin.TabularInline):
    """A record's workflow events, read-only, with the labels its pages use: the bare codes
    ("accept", "in_mediation") were shown in the admin in every language. The event model mixes in
    ``governance.workflow.TimelineLabels``; list ``action_shown`` and ``status_column``."""

    extra = 0
    can_delete = False

    def get_queryset(self, request):
        # The people and places a step names (actor, department) come with the steps: each was a
        # query per row, forty for an item with twenty steps.
        shown = set(self.readonly_fields) | set(self.fields or ())
        related = [f.name for f in self.model._meta.concrete_fields if f.is_relation and f.name in shown]
        return super().get_queryset(request).select_related(*related)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("action"))
    def action_shown(self, event) -> str:
        return event.action_label

    @admin.display(description=_("status"))
    def status_column(self, event) -> str:
        # As the pages' timelines: "from → to", the status once for a step that kept it (an assist
        # read 处置中 and 处置中 in a before and an after column), the first step's status alone.
        return event.status_shown or event.to_status_label


def _people_of(obj) -> list:
    """The people whose names a record's texts may write out: a case's parties, a petition's
    petitioners, or those of the case or petition a session or a timeline event belongs to (this
    app knows none of those models: it follows their related names)."""
    for record in (obj, getattr(obj, "case", None), getattr(obj, "petition", None)):
        for related in ("parties", "petitioners"):
            if record is not None and hasattr(record, related):
                return list(getattr(record, related).all())
    return []


@cache
def _masked_text(model, name: str):
    # One column per model and field: the admin finds a read-only field in its lists by identity.
    @admin.display(description=model._meta.get_field(name).verbose_name)
    def shown(obj) -> str:
        return pii.mask_people_in_text(getattr(obj, name), _people_of(obj))

    shown.__name__ = name  # the page's CSS class (field-<name>), as for the plain field
    return shown


def masked_texts(model, fields, texts) -> list:
    """An admin's read-only ``fields`` of ``model`` with each of the free ``texts`` among them shown
    with the identity and phone numbers in it masked (``pii.mask_numbers_in_text``), as the pages
    show them to a reader who may not reveal: a superuser is not one (docs/architecture.md), and the
    admin is no way round the logged reveal. List the same texts the record's pages and API mask. An
    admin whose form is made from the model (no ``fields`` given) lists them in ``exclude`` too: its
    form would otherwise have an editable field showing each whole."""
    return [_masked_text(model, name) if name in texts else name for name in fields]


class LabelledListEditable:
    """A ModelAdmin mixin for lists with ``list_editable``: Django draws each editable cell as a bare
    input, whose only name is the column header above it, which a screen reader does not announce
    for a field ("edit text, 2", "checkbox, checked", row after row). Each one is named by its column
    and its row ("Accept within (working hours) · Fire hazard"), in the reader's language (WCAG 1.3.1,
    4.1.2)."""

    def get_changelist_form(self, request, **kwargs):
        base = super().get_changelist_form(request, **kwargs)

        class Form(base):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                if self.instance.pk is None:
                    return
                for field in self.fields.values():
                    if not field.widget.is_hidden:
                        field.widget.attrs["aria-label"] = f"{capfirst(field.label)} · {self.instance}"

        return Form


# A list's own parameters (search, order, page, popup...), which filter nothing.
_LIST_PARAMETERS = frozenset({*IGNORED_PARAMS, PAGE_VAR, ERROR_FLAG})


@cache
def _free_texts(model) -> frozenset[str]:
    """The fields of ``model`` a person's name, number or address may be typed into: its own text
    fields with no fixed choices (a status or a channel is not free text)."""
    texts = (models.CharField, models.TextField, models.JSONField)
    return frozenset(
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, texts) and not f.choices and not f.is_relation
    )


def _offered_filters(model_admin, request) -> set[str]:
    """The fields a list's own filters (its side panel, its date links) filter by."""
    names = {model_admin.date_hierarchy} if model_admin.date_hierarchy else set()
    for item in model_admin.get_list_filter(request) if request is not None else model_admin.list_filter:
        if isinstance(item, str | tuple | list):
            names.add((item if isinstance(item, str) else item[0]).split(LOOKUP_SEP)[0])
        elif getattr(item, "parameter_name", None):
            names.add(item.parameter_name.split(LOOKUP_SEP)[0])
    return names


class SuperusersOnly:
    """A ModelAdmin mixin for the records of residents' matters and who read them (incidents and
    their photos, dispute cases, petitions, the access and audit logs), and for the assessment
    schemes that score the areas. The admin's permissions are city-wide (a staff member given "view
    petition" to keep one district's records would read every district's, and one given "change
    scheme" could reweigh the scheme that scores their own district), so these are shown to
    superusers only, who see everything on the pages too; staff reach them, limited to their area,
    through the pages."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # Django lets a list's address filter by any of the model's own fields, offered or not:
        # ?description__icontains=13812345678 listed the records whose texts name that number, a
        # search for a resident the search box does not offer and no reveal logs. Free texts are
        # filtered by none (400); the filters the list offers, and relations as Django checks them.
        if self._refused_free_text(lookup, request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def _refused_free_text(self, lookup: str, request) -> str | None:
        """The free text ``lookup`` filters by when the list does not offer it, else None."""
        field = lookup.split(LOOKUP_SEP)[0]
        if field in _free_texts(self.model) and field not in _offered_filters(self, request):
            return field
        return None

    def changelist_view(self, request, extra_context=None):
        # A refused filter raised DisallowedModelAdminLookup, which Django answers with its bare
        # "Bad Request (400)" in English: no field named, nothing to do next. The same refusal
        # (lookup_allowed) as the admin's own page, which names the field and the search to use.
        # Only for those who may see the list: anyone else is refused by Django as before (403).
        if self.has_view_or_change_permission(request):
            refused = [
                field
                for key in request.GET
                if key not in _LIST_PARAMETERS and (field := self._refused_free_text(key, request))
            ]
            if refused:
                return self._refused_lookup_page(request, list(dict.fromkeys(refused)))
        return super().changelist_view(request, extra_context)

    def _refused_lookup_page(self, request, fields: list[str]) -> TemplateResponse:
        opts = self.model._meta
        separator = pgettext("list separator", ", ")
        named = separator.join(f"“{opts.get_field(name).verbose_name}”" for name in fields)
        searched = self.get_search_fields(request)
        if self.search_help_text:
            instead = self.search_help_text
        elif searched:
            labels = dict.fromkeys(
                str(get_fields_from_path(self.model, name.lstrip("^=@"))[-1].verbose_name)
                for name in searched
            )
            instead = _("Search by %(fields)s in the search box.") % {"fields": separator.join(labels)}
        else:
            instead = _("Use the filters beside the list.")
        context = {
            **self.admin_site.each_context(request),
            "title": _("This list cannot be filtered by %(fields)s") % {"fields": named},
            "named": named,
            "instead": instead,
            "searched": bool(searched),
            "opts": opts,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        }
        return TemplateResponse(request, "admin/governance/refused_lookup.html", context, status=400)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record that is written by the platform only (logs, runs): listed and opened, never added,
    changed or deleted through the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RecordKindFilter(admin.SimpleListFilter):
    """The kinds of record in a log, by their names (当事人), not the stored model labels; the same
    address as the plain field filter it replaces."""

    title = _("object type")
    parameter_name = "object_type__exact"

    def lookups(self, request, model_admin):
        stored = (
            model_admin.get_queryset(request).order_by("object_type").values_list("object_type", flat=True)
        )
        return [(label, record_kind(label)) for label in stored.distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(SuperusersOnly, ReadOnlyAdmin):
    # The reason with the numbers in it masked: an officer may write the one they revealed into it
    # ("回电13812345678"), and the superusers who read the log may reveal nobody (masked_texts).
    list_display = masked_texts(
        PersonalDataAccess,
        ["at", "user", "record", "object_type_shown", "fields_shown", "reason"],
        ["reason"],
    )
    list_filter = [RecordKindFilter]
    search_fields = ["record", "user__username", "user__display_name"]
    # The entry's page as its list: labels, not the stored model label and field names.
    fields = masked_texts(
        PersonalDataAccess,
        ["at", "user", "record", "object_type_shown", "object_id", "fields_shown", "reason", "ip_address"],
        ["reason"],
    )
    readonly_fields = fields

    @admin.display(description=_("fields revealed"))
    def fields_shown(self, entry) -> str:
        return entry.fields_label

    # The kind of record by its name (用户), not the model's label ("governance.user").
    @admin.display(description=_("object type"), ordering="object_type")
    def object_type_shown(self, entry) -> str:
        return record_kind(entry.object_type)


@admin.register(AuditEntry)
class AuditEntryAdmin(PersonalDataAccessAdmin):
    list_display = ["at", "actor", "action", "object_type_shown", "object_id"]
    list_filter = ["action"]
    search_fields = ["object_id", "actor__username", "actor__display_name"]
    fields = ["at", "actor", "action", "object_type_shown", "object_id", "before", "after"]
    readonly_fields = fields


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    """Django writes every change made in the admin to its log, but shows each administrator only
    their own last ten. Here every administrator's, read-only, so who changed a membership, a
    category's time limits or a user's status can be looked up. The log names objects of the models
    registered here, which hold no personal data of residents (tests/governance/test_admin.py)."""

    list_display = ["action_time", "user", "content_type", "object_repr", "action_flag"]
    list_filter = ["action_flag", "content_type"]
    search_fields = ["object_repr", "user__username", "user__display_name"]
    list_select_related = ["user", "content_type"]
    date_hierarchy = "action_time"


# django-axes names its attempts' status column by the method ("Status"): no catalogue reaches it.
# (Its app is listed before governance, so its admin is registered first.)
# django-axes' sign-in records, named by username, address and local time (governance.admin_names),
# not axes' English at UTC; an account is unlocked by deleting its attempt, logged by that name.
for model in (AccessAttempt, AccessFailureLog, AccessLog):
    admin.site.unregister(model)


class SignInRecordAdmin(LabelledObjects):
    """Every field of a sign-in record is read-only (axes writes them), so its page is view-only:
    no 保存 buttons with nothing to save. Deleting stays: deleting an attempt unlocks the account."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessAttempt)
class AccessAttemptAdmin(SignInRecordAdmin, BaseAccessAttemptAdmin):
    @admin.display(description=_("status"))
    def status(self, obj: AccessAttempt) -> str:
        return super().status(obj)

    def object_label(self, obj: AccessAttempt) -> str:
        return sign_in_label(obj)


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(SignInRecordAdmin, BaseAccessFailureLogAdmin):
    def object_label(self, obj: AccessFailureLog) -> str:
        return sign_in_label(obj)


@admin.register(AccessLog)
class AccessLogAdmin(SignInRecordAdmin, BaseAccessLogAdmin):
    def object_label(self, obj: AccessLog) -> str:
        return sign_in_label(obj)


import governance.beat_admin  # noqa: E402, F401  (celery-beat's scheduled jobs pages, in the reader's language)
