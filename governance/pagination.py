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

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


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
