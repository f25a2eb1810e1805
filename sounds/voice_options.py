"""A site's voice options (``Site.voice_options``): each key, the values it takes, its default.

The admin's settings form and its checks, the voice that reads a call
(``server.realtime.announcements``) and a display's ``repeat=`` all take them from here.
"""

from __future__ import annotations

from .vietnamese import THOUSANDS, ZERO_HUNDREDS, ReadingOptions, Thousand, ZeroHundred

# "words": "một nghìn không trăm linh năm"; "digits": "một không không năm".
READINGS = ("words", "digits")
# How many times a call is said (a display plays the announcement that often).
REPEATS = (1, 2, 3, 4, 5)

DEFAULT_READING = "words"
DEFAULT_ZERO_HUNDRED: ZeroHundred = ReadingOptions.zero_hundred
DEFAULT_THOUSAND: Thousand = ReadingOptions.thousand
DEFAULT_REPEAT = 2

__all__ = [
    "DEFAULT_READING",
    "DEFAULT_REPEAT",
    "DEFAULT_THOUSAND",
    "DEFAULT_ZERO_HUNDRED",
    "READINGS",
    "REPEATS",
    "THOUSANDS",
    "ZERO_HUNDREDS",
]
