from __future__ import annotations

import logging
import random
import time
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance import demo as demo_city
from governance.models import SequenceCounter
from governance.urls import FEATURE_APPS

# What each scale is for; its size is read from demo_city.SCALES so the help cannot drift from it.
SCALE_PURPOSE = {
    "small": gettext_lazy("for trying the platform and for tests"),
    "city": gettext_lazy("a whole city for benchmarks (docs/benchmarks.md), seeded in about five minutes"),
}


def _scales_help() -> str:
    def span(value) -> str:
        low, high = value if isinstance(value, tuple) else (value, value)
        return str(low) if low == high else f"{low}-{high}"

    parts = []
    for name, spec in sorted(demo_city.SCALES.items()):
        size = _(
            "%(scale)s: %(districts)s districts, %(streets)s streets per district, %(communities)s communities "
            "per street, %(grids)s grids per community"
        ) % {
            "scale": name,
            "districts": spec["districts"],
            "streets": span(spec["streets"]),
            "communities": span(spec["communities"]),
            "grids": span(spec["grids"]),
        }
        purpose = SCALE_PURPOSE.get(name)
        parts.append(_("%(size)s; %(purpose)s") % {"size": size, "purpose": purpose} if purpose else size)
    return _("%(scales)s.") % {"scales": _(". ").join(parts)}


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _(
            "Create a synthetic city (areas with real-format codes and tiling boundaries, departments, one demo "
            "user per role) and let every app add its records (a year and more of incidents, cases, petitions, "
            "surveys). Idempotent: parts that already exist are kept. Demo logins only when DEBUG is on."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=sorted(demo_city.SCALES),
            default="small",
            help=_("size of the city (default small). %(scales)s") % {"scales": _scales_help()},
        )
        parser.add_argument(
            "--seed", type=int, default=1, help=_("random seed; the same seed gives the same city")
        )
        parser.add_argument(
            "--months", type=int, default=15, help=_("months of records before today, 1 to 60 (default 15)")
        )
        parser.add_argument("--areas-only", action="store_true", help=_("skip the apps' records"))

    def handle(self, *args, scale: str, seed: int, months: int, areas_only: bool, **options):
        if months < 1 or months > 60:
            raise CommandError(_("--months must be between 1 and 60"))
        # With eager tasks (the embedded default) each task the seeding sends is run in place and
        # Celery logs a "Task ... succeeded" line for it, in the middle of this command's report and
        # the demo logins. A worker's log keeps those lines; this command's output does not need them.
        trace_logger = logging.getLogger("celery.app.trace")
        level = trace_logger.level
        trace_logger.setLevel(logging.WARNING)
        try:
            self._seed(scale=scale, seed=seed, months=months, areas_only=areas_only)
        finally:
            trace_logger.setLevel(level)

    def _seed(self, *, scale: str, seed: int, months: int, areas_only: bool):
        started = time.monotonic()
        try:
            city = demo_city.load_city()
        except demo_city.NotTheDemoCity as exc:
            area = exc.args[0]
            raise CommandError(
                _(
                    "Area %(code)s (%(name)s) holds the demo city's code but is not the demo (%(demo)s): "
                    "the demo is never seeded into a real city's areas. Seed it into a database of its own."
                )
                % {"code": area.code, "name": area.name, "demo": demo_city.CITY_NAME}
            ) from None
        if city is None:
            city = demo_city.build_city(scale, seed)
            self.stdout.write(
                _(
                    "Created %(districts)d districts, %(streets)d streets, %(communities)d communities, %(grids)d grids."
                )
                % {
                    "districts": len(city.districts),
                    "streets": len(city.streets),
                    "communities": len(city.communities),
                    "grids": len(city.grids),
                }
            )
        else:
            self.stdout.write(
                _("Areas already present: %(grids)d grids under %(city)s; kept.")
                % {"grids": len(city.grids), "city": city.city.code}
            )
        logins = demo_city.create_demo_users(city, with_passwords=settings.DEBUG)
        if not areas_only:
            for app_label in FEATURE_APPS:
                try:
                    module = import_module(f"{app_label}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app_label}.demo":
                        raise
                    continue
                app_started = time.monotonic()
                module.seed(
                    demo=city, rng=random.Random(seed), scale=scale, months=months, stdout=self.stdout
                )
                self.stdout.write(f"  {app_label}: {time.monotonic() - app_started:.1f} s")
        # The apps add their demo staff with bulk_create, which sends no signals: the statistics
        # API's Last-Modified learns of the new memberships here (governance.models).
        SequenceCounter.bump("memberships")
        if connection.vendor == "postgresql":
            # Fresh planner statistics after bulk loading: without them PostgreSQL plans lists over
            # a hundred thousand rows as if there were a hundred (seconds instead of milliseconds).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo data ready in %(seconds).1f s.") % {"seconds": time.monotonic() - started}
            )
        )
        if settings.DEBUG:
            self.stdout.write(
                "\n"
                + _("Demo logins (password for all: %(password)s):") % {"password": demo_city.DEMO_PASSWORD}
            )
            for username, role, area in logins:
                self.stdout.write(f"  {username:<18} {role:<12} {area}")
        else:
            self.stdout.write(_("DEBUG is off: demo users were created without passwords (no demo logins)."))
