"""Celery tasks of assessment scoring: after each successful rollup, and on demand (tasks take ids,
re-fetch and call one service; running one twice stores one run, see ``assessment_compute``)."""

from __future__ import annotations

from celery import shared_task

from governance.tasks import RETRY_ON_DATABASE_ERROR


@shared_task(
    name="dashboards.assessment_compute_all", ignore_result=True, acks_late=True, **RETRY_ON_DATABASE_ERROR
)
def assessment_compute_all(rollup_run_id: int | None = None) -> list[int]:
    from dashboards.assessment import compute_all

    return compute_all(rollup_run_id=rollup_run_id, trigger="rollup")


@shared_task(
    name="dashboards.assessment_compute", ignore_result=True, acks_late=True, **RETRY_ON_DATABASE_ERROR
)
def assessment_compute(scheme_id: int, user_id: int | None = None) -> int | None:
    from dashboards.assessment import assessment_compute as compute
    from dashboards.assessment_models import AssessmentScheme
    from governance.models import User

    scheme = AssessmentScheme.objects.filter(pk=scheme_id).first()
    if scheme is None:
        return None
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return compute(scheme=scheme, actor=user, trigger="manual" if user else "task").pk
