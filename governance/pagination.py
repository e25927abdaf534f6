"""Page-numbered lists whose pages do not fetch and join rows they do not show.

``OFFSET 4950 LIMIT 50`` makes PostgreSQL produce the 4,950 skipped rows in full before it drops
them: each one read from the table's heap and joined to the select_related tables (grid, category,
department...). The first page can pay the same way: a filter whose rows no index returns in the
list's order (``?area=`` a street, ``?department=``) has all its rows (4,292, 2,321) joined before
the top-N sort keeps 50. A deferred join pages the primary keys instead, in the list's order, with
nothing but the scope and the filters to evaluate (the order's index, read without the joins the
page shows), then fetches the page's 50 rows by primary key: one statement,

    SELECT ... WHERE id IN (SELECT id ... ORDER BY ... LIMIT 50 OFFSET 4950) [and the filters] ORDER BY ...

so the number of queries, the count, the page numbers and the rows of each page are those of the
plain paginator. Every page is read so, the first too: where the plain statement already walked an
index in the list's order and stopped after 50 rows, the keys first cost the 50 rows' fetch by key
again (350-550 more buffers, no time above a loaded machine's noise); where it did not, they saved
3-10x (docs/benchmarks.md "Deep pages" and "The first page's keys first").
"""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class DeferredJoinPaginator(Paginator):
    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(deferred_slice(self.object_list, bottom, top), number, self)


def deferred_slice(rows: Any, bottom: int, top: int) -> Any:
    """``rows[bottom:top]``, the keys first (any page, the first too), for a queryset in a total
    order (a page's rows are then the same either way) that neither groups nor de-duplicates its
    rows (whose keys alone would not slice alike); anything else is sliced as it is."""
    if (
        not isinstance(rows, QuerySet)
        or rows.query.is_sliced
        or rows.query.distinct
        or rows.query.combinator
        or rows.query.group_by is not None
        or not rows.ordered
    ):
        return rows[bottom:top]
    return rows.filter(pk__in=rows.values("pk")[bottom:top])


class BoundedCountPaginator(Paginator):
    """A paginator whose count stops past ``limit`` rows, for a list that may match millions.

    ``stats/values/`` unfiltered (or by ``level`` or ``period_type``) matched 4.7 million rows at a
    city's scale, and counting them was most of its 0.25-0.5 s for a first page of 50 (docs/
    benchmarks.md "Statistics API reads at city scale"). The count reads at most ``limit + 1``
    rows (``SELECT COUNT(*) FROM (... LIMIT limit + 1)``); within the bound it is exact. Past it,
    ``exact`` is False and ``count`` is PostgreSQL's planner estimate of the rows (no estimate on
    SQLite), never below ``limit + 1`` nor below the rows up to the end of the page read. The pages
    stay exact all the same: such a page reads one row more than it shows, so ``has_next`` is
    known without the count, and the last page asked for by name, or a page past the end, counts
    the rows exactly (the 400 must say how many pages there are).
    """

    limit = 10_000
    exact = True

    @cached_property
    def count(self) -> int:
        bounded = self.object_list[: self.limit + 1].count()
        if bounded <= self.limit:
            return bounded
        self.exact = False
        return max(bounded, _estimate(self.object_list))

    def count_exactly(self) -> int:
        if self.count > self.limit and not self.exact:
            self.__dict__["count"] = self.object_list.count()
            self.__dict__.pop("num_pages", None)
            self.exact = True
        return self.count

    def validate_number(self, number: Any) -> int:
        if self.count <= self.limit or self.exact:
            return super().validate_number(number)
        # Past the bound the number of pages is unknown: the page itself tells whether it is empty.
        return _whole_from_one(self, number)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if self.exact:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            self.count_exactly()
            raise EmptyPage(self.error_messages["no_results"])
        more = len(rows) > self.per_page
        self.__dict__["count"] = max(self.count, bottom + len(rows))
        return OpenEndedPage(rows[: self.per_page], number, self, more=more)


class OpenEndedPage(Page):
    """A page of a list whose count is an estimate: whether another follows is what it read."""

    def __init__(self, object_list: Any, number: int, paginator: Paginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        return self.number + 1


def _whole_from_one(paginator: Paginator, number: Any) -> int:
    # Paginator.validate_number's own checks of the number, without the one against num_pages.
    try:
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        number = int(number)
    except (TypeError, ValueError):
        raise PageNotAnInteger(paginator.error_messages["invalid_page"]) from None
    if number < 1:
        raise EmptyPage(paginator.error_messages["min_page"])
    return number


def _estimate(rows: QuerySet) -> int:
    """The planner's estimate of the rows of ``rows`` (one EXPLAIN, no row read); 0 elsewhere."""
    if connections[rows.db].vendor != "postgresql":
        return 0
    plan = json.loads(rows.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])
