"""What the server and the kiosk agent say about a print job: both halves read these."""

from __future__ import annotations

from typing import Any, TypeGuard

MAX_ID = 2**31 - 1  # 32-bit id columns
MAX_ERROR = 300  # the longest error message kept (PrintJob.last_error)


def valid_id(value: Any) -> TypeGuard[int]:
    """A job or device id as the server sends it: a whole number that fits its column."""
    return type(value) is int and 1 <= value <= MAX_ID
