"""manage.py ranking_bench refuses a repeat count it cannot time before it touches the database."""

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.parametrize("repeat", ["0", "-5"])
def test_a_repeat_count_below_one_is_refused(repeat):
    # No database access is allowed here: the refusal comes first (zero timings had no median and
    # ended in statistics.StatisticsError after the warm-up requests).
    with pytest.raises(CommandError, match=f"--repeat must be at least 1, got {repeat}"):
        call_command("ranking_bench", "--repeat", repeat)


def test_a_repeat_count_given_as_an_option_is_checked_as_well():
    with pytest.raises(CommandError, match="--repeat must be at least 1, got 0"):
        call_command("ranking_bench", repeat=0)
