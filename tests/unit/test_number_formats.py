"""Two services of a site never print the same number (server.engine.number_formats)."""

from __future__ import annotations

from server.engine.number_formats import (
    NumberFormat,
    overlapping_range,
    range_is_valid,
    range_is_whole,
    same_prefix,
)

HO_TICH = NumberFormat("Hộ tịch", "A")
NO_PREFIX = NumberFormat("Chứng thực")
DAT_DAI = NumberFormat("Đất đai", range_start=3001, range_end=3999)


def test_a_prefix_is_one_services_and_no_prefix_counts_as_one() -> None:
    assert same_prefix(NumberFormat("Tư pháp", "A"), [NO_PREFIX, HO_TICH, DAT_DAI]) is HO_TICH
    assert same_prefix(NumberFormat("Tư pháp"), [HO_TICH, NO_PREFIX]) is NO_PREFIX
    assert same_prefix(NumberFormat("Tư pháp", "B"), [HO_TICH, NO_PREFIX, DAT_DAI]) is None


def test_ranges_that_share_a_number_clash_and_touching_ones_do_not() -> None:
    assert overlapping_range(NumberFormat("X", range_start=3999, range_end=4999), [DAT_DAI])
    assert overlapping_range(NumberFormat("X", range_start=1, range_end=3001), [DAT_DAI])
    assert overlapping_range(NumberFormat("X", range_start=4000, range_end=4999), [DAT_DAI]) is None
    assert overlapping_range(NumberFormat("X", range_start=1, range_end=3000), [DAT_DAI]) is None
    assert overlapping_range(HO_TICH, [DAT_DAI]) is None  # no range: nothing to overlap


def test_a_range_has_both_ends_in_order_within_six_digits() -> None:
    assert range_is_whole(None, None) and range_is_whole(1, 9)
    assert not range_is_whole(1, None) and not range_is_whole(None, 9)
    assert range_is_valid(1, 1) and range_is_valid(1, 999_999)
    assert not range_is_valid(0, 5) and not range_is_valid(9, 1)
    assert not range_is_valid(1, 1_000_000)
    assert DAT_DAI.uses_range and NumberFormat("X", range_end=9).uses_range
    assert not HO_TICH.uses_range
