"""django-celery-beat's admin pages, in the reader's language where its catalogue cannot reach:
columns named by attribute ("SCHEDULER", "Human readable", "Crontab translation"), the task
field's literal verbose name ("Task Name", in the filter and on each schedule's list of tasks) and
the crontabs described by cron_descriptor in English ("At 02:00 AM"), and the jobs the platform's
migrations create by their keys ("grids: notify overdue incidents"). The models, their fields and
migrations stay celery-beat's; only its admin classes are replaced (registered after it: INSTALLED_APPS
lists django_celery_beat before governance)."""

from __future__ import annotations

from cron_descriptor import (
    FormatException,
    MissingFieldException,
    Options,
    WrongArgumentException,
    get_description,
)
from django.contrib import admin
from django.contrib.admin import helpers
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
    cronexp,
)

from governance.admin_names import Labelled, LabelledObjects, relabelled

# The jobs the migrations create, by the name each is stored under: the key the migrations (and the
# tests) find it by, so it stays as it is and is shown by a label in the reader's language. Only
# names and Celery task names, as strings: governance imports no other app.
PLATFORM_JOBS: dict[str, tuple[str, str | Promise]] = {
    "governance.relay_outbox": ("governance.relay_outbox", _("Send the queued messages")),
    "dashboards.rollup nightly": ("dashboards.rollup", _("Nightly indicator rollup")),
    "grids: notify overdue incidents": ("grids.notify_overdue", _("Overdue incident notices")),
    "petitions: deadline reminders": ("petitions.notify_deadlines", _("Petition deadline reminders")),
    "mediation: closing judicial-confirmation windows": (
        "mediation.notify_confirmation_closing",
        _("Judicial confirmation windows closing"),
    ),
    "mediation: time limits ending or passed": (
        "mediation.notify_limits",
        _("Mediation time limits ending or passed"),
    ),
}
TASK_LABELS = {task: label for task, label in PLATFORM_JOBS.values()}
# The descriptions those migrations store, in English, word for word: each is the msgid of its
# translation. Stored as they are (a data migration writing Chinese would fight the catalogue and
# the English admin), shown translated; a description stored otherwise is shown as it is.
PLATFORM_DESCRIPTIONS: dict[str, str] = {
    "governance.relay_outbox": gettext_noop(
        "Send outbox messages that could not be sent when they were written."
    ),
    "dashboards.rollup nightly": gettext_noop(
        "Recompute indicator values changed since the last successful run and the current periods."
    ),
}


def job_label(job: PeriodicTask) -> str:
    """A platform job by its label, any other by the name it was given."""
    return str(PLATFORM_JOBS[job.name][1]) if job.name in PLATFORM_JOBS else job.name


def job_description(job: PeriodicTask) -> str:
    """A platform job's description in the reader's language while it is the one its migration
    stored; any other as it is."""
    stored = PLATFORM_DESCRIPTIONS.get(job.name)
    return gettext(stored) if stored is not None and job.description == stored else job.description


def crontab_described(crontab: CrontabSchedule) -> str:
    """``CrontabSchedule.human_readable`` in the reader's language (cron_descriptor's own zh_CN
    catalogue) and on a 24-hour clock: "在 02:00 Asia/Shanghai"."""
    expression = " ".join(
        cronexp(value)
        for value in (
            crontab.minute,
            crontab.hour,
            crontab.day_of_month,
            crontab.month_of_year,
            crontab.day_of_week,
        )
    )
    options = Options()
    options.locale_code = "zh_CN" if (get_language() or "").startswith("zh") else "en_US"
    options.use_24hour_time_format = True
    try:
        described = get_description(expression, options)
    except (MissingFieldException, FormatException, WrongArgumentException):
        described = expression
    return f"{described} {crontab.timezone}"


def crontab_choice(crontab: CrontabSchedule) -> str:
    """A crontab offered for a job: "在 02:00 Asia/Shanghai（0 2 * * *）"."""
    fields = (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week)
    return gettext("%(words)s (%(expression)s)") % {
        "words": crontab_described(crontab),
        "expression": " ".join(fields),
    }


class TaskFilter(admin.AllValuesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("task to run")

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] in TASK_LABELS:
                choice["display"] = TASK_LABELS[choice["display"]]
            yield choice


class PeriodicTaskInline(beat.PeriodicTaskInline):
    fields = ("job_shown", "task_shown", "args", "kwargs")
    readonly_fields = fields

    @admin.display(description=_("name"))
    def job_shown(self, task: PeriodicTask) -> str:
        return job_label(task)

    @admin.display(description=_("task to run"))
    def task_shown(self, task: PeriodicTask) -> str:
        return task.task


class LabelledJobRows(helpers.InlineAdminFormSet):
    """The jobs a schedule runs, each row headed by the job's label: Django heads an inline row
    by str(), celery-beat's "governance.relay_outbox: 每 分钟" (its key and the schedule)."""

    def __iter__(self):
        for row in super().__iter__():
            if row.original is not None:  # after Django has read its content type and URL
                row.original = Labelled(row.original.pk, job_label(row.original))
            yield row


class RunsLabelledJobs:
    """A schedule's admin: the inline of its jobs as LabelledJobRows, and the confirmation of its
    deletion naming the jobs it takes with it by their labels (a platform job among them refuses
    the deletion: PeriodicTaskAdmin.has_delete_permission)."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        (field,) = (f.name for f in PeriodicTask._meta.fields if f.related_model is self.model)
        jobs = PeriodicTask.objects.filter(**{f"{field}__in": list(objs)})
        names = {str(job): job_label(job) for job in jobs}
        return relabelled(deleted, names), counts, perms_needed, protected

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        shown = super().get_inline_formsets(request, formsets, inline_instances, obj)
        for formset in shown:
            if isinstance(formset.opts, PeriodicTaskInline):
                formset.__class__ = LabelledJobRows
        return shown


class PeriodicTaskAdmin(LabelledObjects, beat.PeriodicTaskAdmin):
    list_display = ("job_shown", "enabled", "schedule_shown", "start_time", "last_run_at", "one_off")
    list_filter = ["enabled", "one_off", ("task", TaskFilter), "start_time", "last_run_at"]

    @admin.display(description=_("name"), ordering="name")
    def job_shown(self, task: PeriodicTask) -> str:
        return job_label(task)

    # Its page, its row's checkbox and the log of its deletion name it by its label, not str(): its
    # key and its schedule ("grids: notify overdue incidents: every 10 minutes").
    def object_label(self, obj: PeriodicTask) -> str:
        return job_label(obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "crontab" and field is not None:
            # Chosen by its words as its list and the job's page show it, with its expression, not
            # by str(): "0 2 * * * (m/h/dM/MY/d) Asia/Shanghai".
            field.label_from_instance = crontab_choice
        return field

    def has_delete_permission(self, request, obj=None) -> bool:
        # The migrations create a platform job once: deleted (alone, in a selection or with the
        # schedule it runs on), it is gone for good. It is turned off instead.
        if obj is not None and obj.name in PLATFORM_JOBS:
            return False
        return super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and obj.name in PLATFORM_JOBS and "enabled" in form.base_fields:
            form.base_fields["enabled"].help_text = _(
                "A job of the platform cannot be deleted: to stop it, untick this box."
            )
        return form

    def get_readonly_fields(self, request, obj=None):
        # A platform job's name is its key: shown, not offered for editing; a description its
        # migration stored, the key of its translation, is shown translated.
        readonly = super().get_readonly_fields(request, obj)
        if obj is None or obj.name not in PLATFORM_JOBS:
            return readonly
        return (*readonly, "name", *(["description_shown"] if obj.name in PLATFORM_DESCRIPTIONS else []))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.name not in PLATFORM_DESCRIPTIONS:
            return fieldsets
        return [
            (
                title,
                {
                    **options,
                    "fields": [("description_shown" if f == "description" else f) for f in options["fields"]],
                },
            )
            for title, options in fieldsets
        ]

    @admin.display(description=_("description"))
    def description_shown(self, task: PeriodicTask) -> str:
        return job_description(task)

    def get_search_results(self, request, queryset, search_term):
        # The labels are not stored: a term found in one finds its job too.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().casefold()
        named = [
            name for name, (_task, label) in PLATFORM_JOBS.items() if term and term in str(label).casefold()
        ]
        if named:
            found = found | queryset.filter(name__in=named)
        return found, may_have_duplicates

    @admin.display(description=_("schedule"))
    def schedule_shown(self, task: PeriodicTask) -> str:
        schedule = task.scheduler
        if isinstance(schedule, CrontabSchedule):
            return crontab_described(schedule)
        return "" if schedule is None else str(schedule)

    @admin.display(description=_("crontab in words"))
    def crontab_translation(self, task: PeriodicTask) -> str:
        return crontab_described(task.crontab) if task.crontab_id else "–"


class CrontabScheduleAdmin(beat.CrontabScheduleAdmin):
    list_display = ("__str__", "described")
    fields = ("described", "minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone")
    readonly_fields = ("described",)

    @admin.display(description=_("crontab in words"))
    def described(self, crontab: CrontabSchedule) -> str:
        return crontab_described(crontab)


REPLACED = {
    PeriodicTask: PeriodicTaskAdmin,
    CrontabSchedule: CrontabScheduleAdmin,
    ClockedSchedule: beat.ClockedScheduleAdmin,
    SolarSchedule: beat.SolarScheduleAdmin,
    IntervalSchedule: beat.IntervalScheduleAdmin,
}
for model, model_admin in REPLACED.items():
    admin.site.unregister(model)
    if model is PeriodicTask:
        admin.site.register(model, model_admin)
    else:
        bases = (RunsLabelledJobs, model_admin)
        admin.site.register(model, type(model_admin.__name__, bases, {"inlines": [PeriodicTaskInline]}))
