"""The SKM index, value and grade, exactly (PermenPAN-RB 14/2017)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.reports.skm import (
    ELEMENTS,
    compute_skm,
    grade,
    parse_period,
    period_bounds,
    skm_table,
    to_decimal,
)


def spread(respondents: int, total: int) -> list[tuple[int, ...]]:
    """`respondents` answers of 9 scores, all 3 or 4, summing to `total` overall."""
    answers = respondents * 9
    fours = total - 3 * answers
    assert 0 <= fours <= answers
    flat = [4] * fours + [3] * (answers - fours)
    return [tuple(flat[i * 9:(i + 1) * 9]) for i in range(respondents)]


def test_nine_elements_with_four_choices() -> None:
    assert [e.code for e in ELEMENTS] == [f"U{i}" for i in range(1, 10)]
    assert all(len(e.choices_id) == 4 and len(e.choices_en) == 4 for e in ELEMENTS)
    assert ELEMENTS[3].choices_id[3] == "Gratis"


def test_perfect_score_is_exactly_100_and_a() -> None:
    result = compute_skm([(4,) * 9] * 7)
    assert result.index == 4 and result.value == 100
    table = skm_table(result)
    assert table["value"] == "100.00" and table["index"] == "4.0000"
    assert table["grade"] == "A" and table["label"] == "A — Sangat Baik"
    assert table["kinerja"] == {"id": "Sangat Baik", "en": "Very good"}
    assert all(row["mean"] == "4.00" and row["weighted"] == "0.444"
               for row in table["elements"])


def test_lowest_score_is_25_and_d() -> None:
    result = compute_skm([(1,) * 9])
    assert result.value == 25 and result.grade is not None and result.grade.grade == "D"


def test_known_index_per_element() -> None:
    # two respondents; U1 mean 3.5, U2..U9 mean 3 -> index = (3.5 + 8 * 3) / 9 = 27.5 / 9
    result = compute_skm([(4, 3, 3, 3, 3, 3, 3, 3, 3), (3, 3, 3, 3, 3, 3, 3, 3, 3)])
    assert result.means[0] == Fraction(7, 2) and result.means[1] == 3
    assert result.index == Fraction(55, 18)
    assert result.value == Fraction(1375, 18)  # 76.3888...
    table = skm_table(result)
    assert table["index"] == "3.0556" and table["value"] == "76.39" and table["grade"] == "C"
    assert table["elements"][0]["mean"] == "3.50" and table["elements"][0]["weighted"] == "0.389"


@pytest.mark.parametrize(("value", "letter"), [
    ("100.00", "A"), ("88.31", "A"), ("88.30", "B"), ("76.61", "B"), ("76.60", "C"),
    ("65.00", "C"), ("64.99", "D"), ("25.00", "D"),
])
def test_grade_boundaries(value: str, letter: str) -> None:
    assert grade(Decimal(value)).grade == letter
    assert grade(value).grade == letter


def test_grade_is_taken_on_the_published_two_decimals() -> None:
    assert grade(Fraction(88305, 1000)).grade == "A"   # published as 88.31
    assert grade(Fraction(883049, 10000)).grade == "B"  # published as 88.30
    with pytest.raises(ValueError):
        grade(Decimal("24.99"))
    with pytest.raises(ValueError):
        grade(Decimal("100.01"))


@pytest.mark.parametrize(("respondents", "total", "value", "letter"), [
    (250, 7947, Fraction(8830, 100), "B"),   # 7947 / 2250 = 3.532 exactly -> 88.30
    (125, 3447, Fraction(7660, 100), "C"),   # 3447 / 1125 = 3.064 -> 76.60
    (5, 117, Fraction(65), "C"),             # 117 / 45 = 2.6 -> 65.00
])
def test_response_sets_landing_exactly_on_boundaries(respondents: int, total: int,
                                                     value: Fraction, letter: str) -> None:
    result = compute_skm(spread(respondents, total) if total >= 3 * respondents * 9
                         else _low(respondents, total))
    assert result.value == value
    assert result.grade is not None and result.grade.grade == letter
    assert skm_table(result)["value"] == str(to_decimal(value, 2))


def _low(respondents: int, total: int) -> list[tuple[int, ...]]:
    """Scores of 2 and 3 summing to `total`."""
    answers = respondents * 9
    threes = total - 2 * answers
    flat = [3] * threes + [2] * (answers - threes)
    return [tuple(flat[i * 9:(i + 1) * 9]) for i in range(respondents)]


def test_one_more_four_crosses_into_a() -> None:
    # 7948 / 2250 * 25 = 88.3111... -> 88.31 -> A
    result = compute_skm(spread(250, 7948))
    assert skm_table(result)["value"] == "88.31" and skm_table(result)["grade"] == "A"


def test_64_99_exactly_is_d() -> None:
    # 58491 / 22500 = 2.5996 -> 64.99
    result = compute_skm(_low(2500, 58491))
    assert result.value == Fraction(6499, 100)
    assert result.grade is not None and result.grade.grade == "D"


def test_the_regulations_rounded_weight_is_not_used() -> None:
    result = compute_skm([(4,) * 9])
    assert result.value != Decimal("0.111") * 4 * 9 * 25  # 99.9 with the rounded weight


def test_no_responses() -> None:
    table = skm_table(compute_skm([]))
    assert table["respondents"] == 0 and table["value"] is None and table["grade"] is None


def test_invalid_scores_are_refused() -> None:
    for bad in ([(5,) * 9], [(0,) * 9], [(4,) * 8], [(True,) * 9]):
        with pytest.raises(ValueError):
            compute_skm(bad)


@given(st.lists(st.tuples(*[st.integers(1, 4)] * 9), min_size=1, max_size=40))
def test_value_is_index_times_25_and_within_scale(responses: list[tuple[int, ...]]) -> None:
    result = compute_skm(responses)
    assert result.value == result.index * 25
    assert 25 <= result.value <= 100
    total = sum(sum(r) for r in responses)
    assert result.index == Fraction(total, 9 * len(responses))


def test_periods() -> None:
    assert parse_period("2026") == ("year", 2026, 1)
    assert parse_period("2026-s2") == ("semester", 2026, 2)
    assert parse_period("2026-03") == ("month", 2026, 3)
    for bad in ("2026-13", "2026-S3", "26", "abcd", "2026-"):
        with pytest.raises(ValueError):
            parse_period(bad)
    first, after, label = period_bounds("semester", 2026, 2)
    assert (first.isoformat(), after.isoformat(), label) == ("2026-07-01", "2027-01-01",
                                                             "2026-S2")
    assert period_bounds("month", 2026, 12)[1].isoformat() == "2027-01-01"
