"""Clip keys and clip file names.

A clip key is the text of one clip (a word such as "mười" or a template phrase such as
"mời công dân có số thứ tự") in one canonical spelling, so that the same word always
finds the same file: Unicode NFC, lower case, single spaces, no punctuation at either end.

On disk a clip is named by an ASCII id made from its key: the key without diacritics,
dashes for everything else, and eight hex digits of the key's SHA-1, because the
ASCII part alone is ambiguous ("mười" and "mươi" both fold to "muoi").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_END_PUNCTUATION = ".,;:!?…-–—\"'“”‘’()[]"
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_SLUG_LENGTH = 40


def clip_key(text: str) -> str:
    """The canonical key of a clip's text: NFC, lower case, single spaces, trimmed punctuation."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _SPACES.sub(" ", text).strip()
    return text.strip(_END_PUNCTUATION + " ")


def ascii_fold(text: str) -> str:
    """Vietnamese text without its diacritics ("đ" becomes "d")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def clip_id(key: str) -> str:
    """The file name (without extension) of a clip: ``muoi-1a2b3c4d`` for "mười"."""
    slug = _NOT_ALNUM.sub("-", ascii_fold(key).lower()).strip("-")[:_SLUG_LENGTH].rstrip("-")
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest
