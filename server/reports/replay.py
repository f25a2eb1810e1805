"""From the log to facts: each ticket's events replayed in order, each figure one record.

A record says what happened (``metric``), how much (``value``: 1, seconds, a span or a
rating) and where it belongs in every grouping at once (site, service, counter, clerk,
hour of the site's day, business day). The groupings then only sum records up
(:mod:`.figures`); the rules of what counts where are all here, and in docs/reports.md.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from ..engine.rules import AT_COUNTER
from .log import Log, SiteInfo

# What a clerk presses at the counter: the first and last of them on a day bound a sign-in
# that was never closed (see _signed_in).
PRESSES = ("called", "recalled", "started", "finished", "no_show")
# No working day is this long: a sign-in lasting longer was left open (see _signed_in).
FORGOTTEN_S = 16 * 3600


class Record(NamedTuple):
    metric: str
    value: Any
    site: int
    service: int | None
    counter: int | None
    clerk: int | None
    hour: int | None  # hour of the site's day the figure belongs to (None: a span, split later)
    day: date


def _since(start: float, end: float) -> float:
    """Seconds between two moments, to the millisecond (the log's own precision)."""
    return round(end - start, 3)


@dataclass
class Visit:
    """The ticket at one counter: from its call to whatever ended it."""

    counter: int
    service: int
    called_at: float
    clerk_at_call: int | None
    started_at: float | None = None


@dataclass
class Facts:
    """The records of a report, with the log they came from (for names and sites)."""

    log: Log
    records: list[Record]
    tickets: list[dict[str, Any]]


class Holders:
    """Who was signed in at a counter at any point of the log (bisect on the changes)."""

    def __init__(self, log: Log) -> None:
        self.keys = {c: [(at, i) for at, i, _ in ch] for c, ch in log.holders.items()}
        self.who = {c: [h for _, _, h in ch] for c, ch in log.holders.items()}

    def at(self, counter: int | None, moment: float, event_id: int) -> int | None:
        if counter is None or counter not in self.keys:
            return None
        index = bisect_left(self.keys[counter], (moment, event_id)) - 1
        return self.who[counter][index] if index >= 0 else None


class _NoRecords(list[Record]):
    """Where the records go when only the ticket list is wanted."""

    def append(self, record: Record) -> None:
        return None


def replay(log: Log, *, ticket_list: bool = False, records: bool = True) -> Facts:
    """Every figure of ``log`` as records; with ``ticket_list``, one summary row per ticket.

    ``records=False``: the ticket list only (the sums come from the daily rollups).
    """
    out: list[Record] = [] if records else _NoRecords()
    rows: list[dict[str, Any]] = []
    holders = Holders(log)
    scores = {r.ticket_id: r.score for r in log.ratings} if ticket_list else {}
    activity: dict[tuple[int, date], list[float]] = {}
    for ticket in log.tickets:
        site = log.sites[ticket.site_id]
        row = _replay_ticket(
            log,
            site,
            ticket,
            log.events.get(ticket.id, []),
            holders,
            out,
            activity,
            ticket_list,
        )
        if row is not None:
            row["rating"] = scores.get(ticket.id)
            rows.append(row)
    if records:
        _ratings(log, out)
        _signed_in(log, out, activity)
    return Facts(log, out, rows)


def _replay_ticket(
    log: Log,
    site: SiteInfo,
    ticket: Any,
    events: list[Any],
    holders: Holders,
    out: list[Record],
    activity: dict[tuple[int, date], list[float]],
    with_row: bool,
) -> dict[str, Any] | None:
    day = ticket.business_day
    sid = site.id
    hour_of = site.clock.hour

    def emit(
        metric: str,
        value: Any,
        service: int | None,
        counter: int | None,
        clerk: int | None,
        moment: float,
    ) -> None:
        if keep:
            out.append(Record(metric, value, sid, service, counter, clerk, hour_of(moment), day))

    keep = not isinstance(out, _NoRecords)

    service = ticket.issued_service_id
    emit("issued", 1, service, None, None, ticket.issued_at)
    emit("channel:" + (ticket.channel or ""), 1, service, None, None, ticket.issued_at)
    emit("priority:" + (ticket.priority_reason or "none"), 1, service, None, None, ticket.issued_at)
    wait_from: float | None = ticket.issued_at
    after_transfer = False
    visit: Visit | None = None
    first_wait: float | None = None
    first_call: float | None = None
    received: set[tuple[str, int | None]] = set()
    counts = {"recalls": 0, "transfers": 0, "requeues": 0, "no_shows": 0}
    service_s: float | None = None

    def close(at: float, event_id: int, metric: str | None, clerk: int | None = None) -> None:
        """The ticket leaves its counter: its time there ends; ``metric`` says how."""
        nonlocal visit
        assert visit is not None
        who = clerk if clerk is not None else holders.at(visit.counter, at, event_id)
        if who is None:
            who = visit.clerk_at_call
        out.append(
            Record(
                "serving", (visit.called_at, at), sid, visit.service, visit.counter, who, None, day
            )
        )
        if metric is not None:
            emit(metric, 1, visit.service, visit.counter, who, at)
        visit = None

    for ev in events:
        kind, at = ev.kind, ev.at
        if kind in PRESSES and ev.counter_id is not None:
            key = (ev.counter_id, site.clock.day(at))
            moments = activity.setdefault(key, [at, at])
            moments[0], moments[1] = min(moments[0], at), max(moments[1], at)
        if kind == "called" and ev.counter_id is not None:
            if visit is not None:  # a call the log never closed: end it here
                close(at, ev.id, None)
            counter = ev.counter_id
            clerk = holders.at(counter, at, ev.id)
            if wait_from is not None:
                waited = _since(wait_from, at)
                emit("wait", waited, service, counter, clerk, wait_from)
                if waited > site.wait_target_s:
                    emit("over_target", 1, service, counter, clerk, wait_from)
            if first_call is None:
                first_call = at
                first_wait = _since(ticket.issued_at, at)
                emit(
                    "first_wait",
                    first_wait,
                    ticket.issued_service_id,
                    counter,
                    clerk,
                    ticket.issued_at,
                )
            for dimension, value in (("counter", counter), ("clerk", clerk)):
                if (dimension, value) not in received:
                    received.add((dimension, value))
                    emit("received:" + dimension, 1, service, counter, clerk, at)
            if after_transfer:
                emit("transferred_to_here", 1, service, counter, clerk, at)
            visit = Visit(counter, service, at, clerk)
            wait_from, after_transfer = None, False
        elif kind == "recalled" and visit is not None:
            counts["recalls"] += 1
            emit(
                "recalls",
                1,
                visit.service,
                visit.counter,
                holders.at(visit.counter, at, ev.id) or visit.clerk_at_call,
                at,
            )
        elif kind == "started" and visit is not None:
            visit.started_at = at
            emit(
                "walk",
                _since(visit.called_at, at),
                visit.service,
                visit.counter,
                holders.at(visit.counter, at, ev.id) or visit.clerk_at_call,
                at,
            )
        elif kind == "finished" and visit is not None:
            began = visit.started_at or visit.called_at
            service_s = _since(began, at)
            clerk = ticket.clerk_id if ticket.status == "done" else None
            who = (
                clerk
                if clerk is not None
                else (holders.at(visit.counter, at, ev.id) or visit.clerk_at_call)
            )
            emit("service", service_s, visit.service, visit.counter, who, at)
            close(at, ev.id, "served", who)
        elif kind == "no_show" and visit is not None:
            counts["no_shows"] += 1
            if (ev.data or {}).get("automatic"):
                emit(
                    "no_show_auto",
                    1,
                    visit.service,
                    visit.counter,
                    holders.at(visit.counter, at, ev.id) or visit.clerk_at_call,
                    at,
                )
            close(at, ev.id, "no_show")
        elif kind == "requeued":
            counts["requeues"] += 1
            if visit is not None and ev.from_status in AT_COUNTER:
                close(at, ev.id, "requeued")
            else:
                emit("requeued", 1, service, None, None, at)
            wait_from = at
        elif kind == "transferred":
            counts["transfers"] += 1
            if visit is not None and ev.from_status in AT_COUNTER:
                close(at, ev.id, "transferred_out")
            else:
                emit("transferred_out", 1, service, None, None, at)
            target = (ev.data or {}).get("to_service")
            if target is not None:
                service = log.names.service_by_code.get((sid, target), service)
            emit("transferred_in", 1, service, None, None, at)
            wait_from, after_transfer = at, True
        elif kind == "cancelled":
            if visit is not None and ev.from_status in AT_COUNTER:
                close(at, ev.id, "cancelled")
            else:
                emit("cancelled", 1, service, None, None, at)
            wait_from = None
    if visit is not None:
        emit(
            "left_at_counter", 1, visit.service, visit.counter, visit.clerk_at_call, visit.called_at
        )
    elif wait_from is not None:
        emit("left_waiting", 1, service, None, None, wait_from)
    if not with_row:
        return None
    return _ticket_row(log, site, ticket, service, first_call, first_wait, service_s, counts)


def _ticket_row(
    log: Log,
    site: SiteInfo,
    ticket: Any,
    service: int,
    first_call: float | None,
    first_wait: float | None,
    service_s: float | None,
    counts: dict[str, int],
) -> dict[str, Any]:
    """One line of the ticket list: no citizen's data (no dossier code, no tracking token)."""
    names = log.names
    counter = names.counters.get(ticket.counter_id) if ticket.counter_id else None
    clerk = names.users.get(ticket.clerk_id) if ticket.clerk_id else None

    local = site.clock.local
    return {
        "site": site.code,
        "day": ticket.business_day.isoformat(),
        "number": ticket.number,
        "issued_service": names.services[ticket.issued_service_id][1],
        "service": names.services[service][1],
        "channel": ticket.channel,
        "priority": ticket.priority_reason,
        "status": ticket.status,
        "issued_at": local(ticket.issued_at),
        "first_called_at": local(first_call),
        "counter": counter[1] if counter and ticket.status != "waiting" else None,
        "clerk": clerk[0] if clerk and ticket.status == "done" else None,
        "first_wait_s": first_wait,
        "service_s": service_s if ticket.status == "done" else None,
        **counts,
    }


def _ratings(log: Log, out: list[Record]) -> None:
    for r in log.ratings:
        site = log.sites[r.site_id]
        out.append(
            Record(
                "rating",
                (r.score, r.scale, tuple(r.reasons or ())),
                r.site_id,
                r.service_id,
                r.counter_id,
                r.clerk_id,
                site.clock.hour(r.created_at),
                r.business_day,
            )
        )


def _signed_in(log: Log, out: list[Record], activity: dict[tuple[int, date], list[float]]) -> None:
    """Each clerk's time at each counter, day by day, within the period and up to now.

    A sign-in longer than ``FORGOTTEN_S`` was never closed: each of its days then
    counts only from the first press at the counter that day (when it began earlier)
    to the last (when it went on after midnight), so a forgotten sign-out does not
    count the night.
    """
    for counter, changes in log.holders.items():
        info = log.names.counters.get(counter)
        if info is None:
            continue
        site = log.sites[info[0]]
        for i, (began, _, clerk) in enumerate(changes):
            if clerk is None:
                continue
            # Not ended yet: up to now (a day that ended meanwhile is cut at its last press).
            ended = changes[i + 1][0] if i + 1 < len(changes) else log.now
            for day, (day_start, day_end) in site.days.items():
                low, high = max(began, day_start), min(ended, day_end)
                if low >= high:
                    continue
                if ended - began > FORGOTTEN_S:  # never signed out: count the presses' span
                    presses = activity.get((counter, day))
                    if presses is None:
                        continue
                    if began < day_start:  # carried over from an earlier day
                        low = max(low, presses[0])
                    if ended > day_end:  # still open when the day ended
                        high = min(high, presses[1])
                if low < high:
                    out.append(
                        Record("signed_in", (low, high), site.id, None, counter, clerk, None, day)
                    )
