"""Which numbers a service may print, so that two services of a site never print the same one.

``numbering.format_number`` turns a day's sequence into the number a citizen reads: a letter
prefix and a zero-padded sequence (``A007``), or a place in a numeric range (``3001``-``3999``).
A site's services must keep those apart: a prefix is used by one service only (no prefix
counts as a prefix, ""), two ranges never overlap, and a service uses a prefix or a range,
never both. The admin checks these before saving a service (``server.admin.service_setup``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_PREFIX = 4
MAX_WIDTH = 6
MAX_NUMBER = 999_999


@dataclass(frozen=True)
class NumberFormat:
    """How one service numbers its tickets (``Service.number_prefix`` and its range)."""

    name: str
    prefix: str = ""
    range_start: int | None = None
    range_end: int | None = None

    @property
    def uses_range(self) -> bool:
        return self.range_start is not None or self.range_end is not None


def range_is_whole(start: int | None, end: int | None) -> bool:
    """Both ends given (or neither)."""
    return (start is None) == (end is None)


def range_is_valid(start: int, end: int) -> bool:
    """From 1 to ``MAX_NUMBER``, the first number not after the last."""
    return 1 <= start <= end <= MAX_NUMBER


def same_prefix(new: NumberFormat, others: Iterable[NumberFormat]) -> NumberFormat | None:
    """Another prefixed service that would print the same numbers as ``new``."""
    return next((o for o in others if not o.uses_range and o.prefix == new.prefix), None)


def overlapping_range(new: NumberFormat, others: Iterable[NumberFormat]) -> NumberFormat | None:
    """Another service whose range shares a number with ``new``'s."""
    if new.range_start is None or new.range_end is None:
        return None
    for other in others:
        if (
            other.range_start is not None
            and other.range_end is not None
            and new.range_start <= other.range_end
            and other.range_start <= new.range_end
        ):
            return other
    return None
