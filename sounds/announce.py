"""What an announcement says: a site's template with the ticket and counter numbers in words.

A template is text with the fields ``{number}`` (required) and ``{counter}``, default
"Mời công dân có số thứ tự {number} đến quầy số {counter}". Each stretch of text between fields
is one phrase clip; a number is its units, one clip each (``sounds.vietnamese.read_code``).
So the clips a site needs are its template's phrases plus :func:`sounds.vietnamese.spoken_units`,
whatever numbers it will ever call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from string import Formatter

from .clips import clip_key
from .vietnamese import LETTER_NAMES, ReadingOptions, read_code, spoken_units

DEFAULT_TEMPLATE = "Mời công dân có số thứ tự {number} đến quầy số {counter}"
FIELDS = ("number", "counter")


class TemplateError(ValueError):
    """A template with an unknown field, a format spec, unbalanced braces or no {number}."""


@dataclass(frozen=True)
class Part:
    """A phrase of the template (``field`` empty) or a field to fill."""

    text: str = ""
    field: str = ""


@dataclass(frozen=True)
class Spoken:
    """One clip of an announcement: its key, and whether it ends a phrase or a number."""

    key: str
    ends_group: bool


@lru_cache(maxsize=64)
def parse_template(template: str) -> tuple[Part, ...]:
    """The phrases and fields of a template, in order (see the module rule)."""
    parts: list[Part] = []
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as err:
        raise TemplateError(f"bad template {template!r}: {err}") from err
    for literal, field, spec, conversion in parsed:
        if clip_key(literal):
            parts.append(Part(text=literal.strip()))
        if field is None:
            continue
        if field not in FIELDS or spec or conversion:
            raise TemplateError(f"template field {{{field}}} is not one of {{number}}, {{counter}}")
        parts.append(Part(field=field))
    if not any(p.field == "number" for p in parts):
        raise TemplateError(f"template {template!r} has no {{number}}")
    return tuple(parts)


def spoken(
    number: str,
    counter: str | int,
    template: str = DEFAULT_TEMPLATE,
    options: ReadingOptions | None = None,
) -> list[Spoken]:
    """The clips of one announcement, in order."""
    items: list[Spoken] = []
    for part in parse_template(template):
        if not part.field:
            items.append(Spoken(clip_key(part.text), True))
            continue
        units = read_code(str(number if part.field == "number" else counter), options)
        items += [Spoken(unit, i == len(units) - 1) for i, unit in enumerate(units)]
    return items


def opening(template: str = DEFAULT_TEMPLATE) -> tuple[str, ...]:
    """The clip keys of the phrase a template opens with before ``{number}``, if it opens so.

    "Mời công dân có số thứ tự {number} đến quầy số {counter}" opens with one phrase; a call
    said right after another in a list leaves it out ("… bê một đến quầy số hai"). A template
    that says ``{counter}`` first has no opening that can go.
    """
    keys: list[str] = []
    for part in parse_template(template):
        if part.field == "number":
            return tuple(keys)
        if part.field:
            return ()
        keys.append(clip_key(part.text))
    return ()


def announcement_text(
    number: str,
    counter: str | int,
    template: str = DEFAULT_TEMPLATE,
    options: ReadingOptions | None = None,
) -> str:
    """What is said, as text: "Mời công dân có số thứ tự a bảy đến quầy số ba"."""
    values = {"number": number, "counter": counter}
    fields = {part.field for part in parse_template(template) if part.field}
    words = {name: " ".join(read_code(str(values[name]), options)) for name in fields}
    return template.format(**words).strip()


def vocabulary(
    templates: Iterable[str] = (DEFAULT_TEMPLATE,),
    letter_names: Mapping[str, str] = LETTER_NAMES,
) -> list[str]:
    """Every clip key the templates can need: their phrases, then every number and letter unit."""
    phrases = [clip_key(p.text) for t in templates for p in parse_template(t) if not p.field]
    return list(dict.fromkeys([*phrases, *spoken_units(letter_names)]))
