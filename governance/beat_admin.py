"""django-celery-beat's admin pages, in the reader's language where its catalogue cannot reach:
columns named by attribute ("SCHEDULER", "Human readable", "Crontab translation"), the task
field's literal verbose name ("Task Name", in the filter and on each schedule's list of tasks) and
the crontabs described by cron_descriptor in English ("At 02:00 AM"). The models, their fields and
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
from django.utils.translation import get_language
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


class TaskFilter(admin.AllValuesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("task to run")


class PeriodicTaskInline(beat.PeriodicTaskInline):
    fields = ("name", "task_shown", "args", "kwargs")
    readonly_fields = fields

    @admin.display(description=_("task to run"))
    def task_shown(self, task: PeriodicTask) -> str:
        return task.task


class PeriodicTaskAdmin(beat.PeriodicTaskAdmin):
    list_display = ("name", "enabled", "schedule_shown", "start_time", "last_run_at", "one_off")
    list_filter = ["enabled", "one_off", ("task", TaskFilter), "start_time", "last_run_at"]

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
    inlines = [PeriodicTaskInline] if model is not PeriodicTask else model_admin.inlines
    admin.site.register(model, type(model_admin.__name__, (model_admin,), {"inlines": inlines}))
