"""Records summed up into the figures of each row of a report, in the issue's JSON shape."""

from __future__ import annotations

import json
import math
import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..engine.ratings import REASONS
from ..engine.rules import CHANNELS, PRIORITY_REASONS
from ..messages import RATING_LEVELS
from .log import SLOT_S, LocalClock, Names, SiteInfo
from .period import Period
from .replay import Record

COUNTS = (
    "issued",
    "served",
    "no_show",
    "no_show_auto",
    "cancelled",
    "transferred_in",
    "transferred_out",
    "recalls",
    "requeued",
    "left_waiting",
    "left_at_counter",
    "over_target",
)
DURATIONS = ("wait", "first_wait", "walk", "service")
SPANS = ("signed_in", "serving")
# Upper bounds (minutes) of the bars of the waiting-time distribution; the last bar is open.
WAIT_BUCKETS_MIN = (5, 10, 15, 20, 30, 45, 60)
WAIT_BOUNDS_TENTHS = tuple(bound * 600 for bound in WAIT_BUCKETS_MIN)  # durations are tenths
UNKNOWN_CLERK = "Không rõ cán bộ"
# A counter or clerk issues no ticket: there "issued" counts the tickets received (called
# there at least once) and "transferred_in" the calls of tickets sent over by a transfer.
AT_COUNTER_ALIASES = {
    "received:counter": "issued",  # only in the counter rows (see sum_days)
    "received:clerk": "issued",  # only in the clerk rows
    "transferred_to_here": "transferred_in",
}
IGNORED_AT_COUNTER = ("issued", "transferred_in")


class Sums:
    """The running sums of one row: counts, durations (in tenths of a second), spans, ratings."""

    __slots__ = ("counts", "samples", "spans", "levels")

    def __init__(self) -> None:
        # counts also hold "channel:kiosk", "priority:elderly" (issued) and "reason:slow"
        self.counts: dict[str, int] = defaultdict(int)
        self.samples: dict[str, list[int]] = defaultdict(list)
        self.spans: dict[str, float] = defaultdict(float)
        self.levels: dict[str, int] = defaultdict(int)  # "score/scale" -> ratings

    def add(self, metric: str, value: Any) -> None:
        """One record's value: a count, a duration, a span's seconds or a rating."""
        if metric in DURATIONS:
            self.samples[metric].append(round(value * 10))
        elif metric in SPANS:
            self.spans[metric] += value
        elif metric == "rating":
            score, scale, reasons = value
            self.levels[f"{score}/{scale}"] += 1
            for reason in reasons:
                self.counts["reason:" + reason] += 1
        else:
            self.counts[metric] += value

    def merge(self, other: Sums) -> None:
        for name, n in other.counts.items():
            self.counts[name] += n
        for name, values in other.samples.items():
            self.samples[name].extend(values)
        for name, total in other.spans.items():
            self.spans[name] += total
        for name, n in other.levels.items():
            self.levels[name] += n

    def stored(self) -> dict[str, Any]:
        """As JSON for the daily rollups (read back by :meth:`load`)."""
        return {
            "c": self.counts,
            "d": self.samples,
            "s": {k: round(v, 3) for k, v in self.spans.items()},
            "l": self.levels,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Sums:
        sums = cls()
        sums.counts.update(data["c"])
        sums.samples.update(data["d"])
        sums.spans.update(data["s"])
        sums.levels.update(data["l"])
        return sums


def stats(tenths: list[int]) -> dict[str, float | int | None]:
    """Mean, median, 90th percentile (nearest rank) and maximum, in seconds (None: no value)."""
    if not tenths:
        return {"count": 0, "mean": None, "median": None, "p90": None, "max": None}
    ordered = sorted(tenths)
    rank = max(1, math.ceil(0.9 * len(ordered)))
    return {
        "count": len(ordered),
        "mean": round(statistics.fmean(ordered) / 10, 1),
        "median": round(statistics.median(ordered) / 10, 1),
        "p90": round(ordered[rank - 1] / 10, 1),
        "max": round(ordered[-1] / 10, 1),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def satisfied_from(scale: int) -> int:
    """The score of "Hài lòng" on a scale: it and every better level count as satisfied."""
    labels = RATING_LEVELS.get(scale, RATING_LEVELS[4])
    return scale - labels.index("Hài lòng")


def rating_figures(sums: Sums, served: int) -> dict[str, Any]:
    """Count per level, rated share of served, satisfied share, satisfaction index, reasons."""
    scales = {int(key.split("/")[1]) for key in sums.levels}
    by_level = {str(level): 0 for level in range(1, max([4, *scales]) + 1)}
    count = satisfied = not_lowest = 0
    for key, n in sums.levels.items():
        score, scale = (int(part) for part in key.split("/"))
        by_level[str(score)] += n
        count += n
        if score >= satisfied_from(scale):
            satisfied += n
        if score > 1:
            not_lowest += n
    return {
        "count": count,
        "by_level": by_level,
        "rated_share": _share(count, served),
        "satisfied_share": _share(satisfied, count),
        "satisfaction_index": _share(not_lowest, count),
        "reasons": {code: sums.counts["reason:" + code] for code in REASONS},
    }


def wait_distribution(tenths: list[int]) -> list[dict[str, Any]]:
    """How many waits fell in each bar: up to 5 min, 5 to 10, ..., over 60."""
    bars = [0] * (len(WAIT_BUCKETS_MIN) + 1)
    for wait in tenths:  # the first bar whose upper bound is at least the wait
        bars[bisect_left(WAIT_BOUNDS_TENTHS, wait)] += 1
    lows = (0, *WAIT_BUCKETS_MIN)
    highs: tuple[int | None, ...] = (*WAIT_BUCKETS_MIN, None)
    return [
        {"from_min": low, "to_min": high, "count": n}
        for low, high, n in zip(lows, highs, bars, strict=True)
    ]


def figures(sums: Sums, *, with_spans: bool = True) -> dict[str, Any]:
    """One row's figures (see docs/reports.md for each definition)."""
    c = sums.counts
    waits = sums.samples["wait"]
    served = c["served"]
    result: dict[str, Any] = {name: c[name] for name in COUNTS}
    result["over_target_share"] = _share(c["over_target"], len(waits))
    channels = [k[8:] for k in c if k.startswith("channel:") and k[8:] not in CHANNELS]
    result["by_channel"] = {ch: c["channel:" + ch] for ch in (*CHANNELS, *sorted(channels))}
    result["by_priority"] = {p: c["priority:" + p] for p in (*PRIORITY_REASONS, "none")}
    result["wait_s"] = stats(waits)
    result["first_wait_s"] = stats(sums.samples["first_wait"])
    result["walk_s"] = stats(sums.samples["walk"])
    result["service_s"] = stats(sums.samples["service"])
    result["wait_distribution"] = wait_distribution(waits)
    signed = sums.spans["signed_in"]
    serving = sums.spans["serving"]
    result["serving_s"] = round(serving, 1)
    # A service is served at several counters at once: its signed-in time means nothing.
    result["signed_in_s"] = round(signed, 1) if with_spans else None
    result["serving_share"] = round(serving / signed, 4) if with_spans and signed else None
    result["ratings"] = rating_figures(sums, served)
    return result


# --- the day's sums per row of each grouping ------------------------------------------------

# The groupings a day's rollup keeps; "day" and "site" rows are totals of days.
DIMENSIONS = ("service", "counter", "clerk", "hour")
Key = Any
DayRollup = dict[str, Any]  # {"service": {id: Sums}, ..., "hour": {h: Sums}, "total": Sums}


def _hour_pieces(start: float, end: float, clock: LocalClock) -> Iterable[tuple[int, float]]:
    """A span cut at the site's hour boundaries: (hour of day, seconds in it)."""
    moment = start
    while moment < end:
        # Hour boundaries fall on quarter hours of UTC in every zone: find the next one.
        cut = min(end, (moment // SLOT_S + 1) * SLOT_S)
        hour = clock.hour(moment)
        while cut < end and clock.hour(cut) == hour:
            cut = min(end, cut + SLOT_S)
        yield hour, cut - moment
        moment = cut


def _route(metric: str) -> tuple[str, str, str, str]:
    """Where a record's metric goes: its name in the service/hour/day rows and total, in the
    counter rows, in the clerk rows ("" for none), and how it is summed."""
    alias = AT_COUNTER_ALIASES.get(metric)
    if alias is not None:
        there = ""
        here = alias
    else:
        there = metric
        at_counter = not (
            metric in IGNORED_AT_COUNTER or metric.startswith(("channel:", "priority:"))
        )
        here = metric if at_counter else ""
    counter = "" if metric == "received:clerk" else here
    clerk = "" if metric == "received:counter" else here
    kind = (
        "duration"
        if metric in DURATIONS
        else "span"
        if metric in SPANS
        else "rating"
        if metric == "rating"
        else "count"
    )
    return there, counter, clerk, kind


def sum_days(records: Iterable[Record], sites: dict[int, SiteInfo]) -> dict[Any, DayRollup]:
    """The records summed per (site, business day), for each grouping and in total.

    A span (signed in, serving) counts whole in every grouping but the hours, where it
    is cut at the site's hour boundaries.
    """
    days: dict[Any, DayRollup] = {}
    routes: dict[str, tuple[str, str, str, str]] = {}
    for rec in records:
        metric = rec.metric
        route = routes.get(metric)
        if route is None:
            route = routes[metric] = _route(metric)
        there, here_counter, here_clerk, kind = route
        day = days.get((rec.site, rec.day))
        if day is None:
            day = days[(rec.site, rec.day)] = {
                **{d: defaultdict(Sums) for d in DIMENSIONS},
                "total": Sums(),
            }
        value = rec.value
        targets: list[tuple[Sums, str]] = []
        if there:
            targets.append((day["total"], there))
            if rec.service is not None:
                targets.append((day["service"][rec.service], there))
            if rec.hour is not None:
                targets.append((day["hour"][rec.hour], there))
        if here_counter and rec.counter is not None:
            targets.append((day["counter"][rec.counter], here_counter))
        if here_clerk and (rec.counter is not None or rec.clerk is not None):
            targets.append((day["clerk"][rec.clerk], here_clerk))
        if kind == "count":
            for sums, name in targets:
                sums.counts[name] += value
        elif kind == "duration":
            tenths = round(value * 10)
            for sums, name in targets:
                sums.samples[name].append(tenths)
        elif kind == "span":
            began, ended = value
            for sums, name in targets:
                sums.spans[name] += ended - began
            if there and rec.hour is None:
                clock = sites[rec.site].clock
                for hour, piece in _hour_pieces(began, ended, clock):
                    day["hour"][hour].spans[there] += piece
        else:
            for sums, name in targets:
                sums.add(name, value)
    return days


def merged(days: dict[Any, DayRollup], group: str) -> tuple[dict[Key, Sums], Sums]:
    """Day rollups summed into the rows of ``group`` and the total of them all."""
    rows: dict[Key, Sums] = defaultdict(Sums)
    total = Sums()
    for (site, day), rollup in sorted(days.items(), key=lambda item: (item[0][1], item[0][0])):
        total.merge(rollup["total"])
        if group == "day":
            rows[day].merge(rollup["total"])
        elif group == "site":
            rows[site].merge(rollup["total"])
        else:
            for key, sums in rollup[group].items():
                rows[key].merge(sums)
    return rows, total


def stored_rollup(rollup: DayRollup) -> dict[str, str]:
    """A day's rollup for the cache: each grouping its own JSON text, read only when asked.

    Keys become text (a clerk nobody knows: "-").
    """
    data = {"total": json.dumps(rollup["total"].stored(), separators=(",", ":"))}
    for dimension in DIMENSIONS:
        rows = {
            ("-" if key is None else str(key)): sums.stored()
            for key, sums in rollup[dimension].items()
        }
        data[dimension] = json.dumps(rows, separators=(",", ":"))
    return data


class StoredDay(dict[str, Any]):
    """A stored day's rollup: a grouping's JSON is decoded the first time it is read."""

    def __init__(self, data: dict[str, str]) -> None:
        super().__init__()
        self.raw = data

    def __missing__(self, name: str) -> Any:
        decoded = json.loads(self.raw[name])
        if name == "total":
            value: Any = Sums.load(decoded)
        else:
            value = {
                (None if key == "-" else int(key)): Sums.load(sums) for key, sums in decoded.items()
            }
        self[name] = value
        return value


# --- the rows of a report, named and ordered ----------------------------------------------


@dataclass
class Scope:
    """What a report is about: its sites, their names, its days, and when it is made."""

    sites: dict[int, SiteInfo]
    names: Names
    period: Period
    now: datetime


def row_heads(scope: Scope, group: str, keys: Iterable[Key]) -> list[tuple[Key, dict[str, Any]]]:
    """The rows of a grouping in their order, each with its key and label.

    Services and counters: every active one and any other with a figure; clerks:
    those with a figure; hours: from the first to the last with a figure; days and
    sites: every one of the report.
    """
    present = set(keys)
    names = scope.names
    sites = scope.sites
    multi = len(sites) > 1
    heads: list[tuple[Any, dict[str, Any]]] = []
    head: dict[str, Any]
    if group == "service":
        ids = [i for i, s in names.services.items() if s[4] or i in present]
        ids.sort(
            key=lambda i: (
                sites[names.services[i][0]].code,
                names.services[i][3],
                names.services[i][1],
            )
        )
        for i in ids:
            site_id, code, name, _, _ = names.services[i]
            site = sites[site_id].code
            head = {"key": f"{site}:{code}" if multi else code, "label": name, "code": code}
            heads.append((i, _with_site(head, site, multi)))
    elif group == "counter":
        ids = [i for i, c in names.counters.items() if c[3] or i in present]
        ids.sort(key=lambda i: (sites[names.counters[i][0]].code, names.counters[i][1]))
        for i in ids:
            site_id, number, name, _ = names.counters[i]
            site = sites[site_id].code
            head = {
                "key": f"{site}:{number}" if multi else str(number),
                "label": name or f"Quầy {number}",
                "number": number,
            }
            heads.append((i, _with_site(head, site, multi)))
    elif group == "clerk":

        def by_name(k: int) -> tuple[str, str]:
            username, full_name = names.users.get(k, (str(k), ""))
            return (full_name or username, username)

        for k in sorted((k for k in present if k is not None), key=by_name):
            username, full_name = names.users.get(k, (str(k), ""))
            head = {"key": username, "label": full_name or username, "username": username}
            heads.append((k, head))
        if None in present:
            heads.append((None, {"key": None, "label": UNKNOWN_CLERK, "username": None}))
    elif group == "hour":
        hours = sorted(h for h in present if h is not None)
        if hours:
            for h in range(hours[0], hours[-1] + 1):
                heads.append((h, {"key": f"{h:02d}", "label": f"{h:02d}:00–{h + 1:02d}:00"}))
    elif group == "day":
        for d in scope.period.each_day():
            heads.append((d, {"key": d.isoformat(), "label": d.strftime("%d/%m/%Y")}))
    elif group == "site":
        for info in sites.values():
            heads.append((info.id, {"key": info.code, "label": info.name}))
    return heads


def _with_site(head: dict[str, Any], site: str, multi: bool) -> dict[str, Any]:
    if multi:
        head["site"] = site
    return head


def shape(scope: Scope, days: dict[Any, DayRollup], group: str) -> dict[str, Any]:
    """The report grouped by ``group``, in the JSON shape the API answers."""
    rows, total = merged(days, group)
    with_spans = group != "service"
    groups = []
    for key, head in row_heads(scope, group, rows):
        groups.append({**head, **figures(rows.get(key, Sums()), with_spans=with_spans)})
    codes = [s.code for s in scope.sites.values()]
    targets = sorted({s.wait_target_min for s in scope.sites.values()})
    zones = sorted({s.timezone for s in scope.sites.values()})
    return {
        "site": codes[0] if len(codes) == 1 else "*",
        "sites": codes,
        "from": scope.period.start.isoformat(),
        "to": scope.period.end.isoformat(),
        "group": group,
        "timezone": zones[0] if len(zones) == 1 else None,
        "wait_target_min": targets[0] if len(targets) == 1 else targets,
        "generated_at": scope.now.isoformat(),
        "groups": groups,
        "total": figures(total),
    }
