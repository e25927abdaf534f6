"""The apps' record factories, for the pages that count records across the apps (overdue lists)."""

from tests.grids.conftest import categories, report  # noqa: F401
from tests.mediation.conftest import med  # noqa: F401
from tests.petitions.conftest import pet  # noqa: F401
