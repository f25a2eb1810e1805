"""The sync worker of a site server: sends the outbox to the hub, batch after batch.

The hub answers every batch with the highest seq it holds, and that answer is the only
thing the worker trusts: after any fault (a cut line, a killed process on either side,
an answer lost on the way) it sends again from there, and the hub skips what it holds.
While the hub cannot be reached the worker waits longer each time (exponential backoff
with full jitter, so a hundred sites do not come back at the same second) and the site
records since when, for the staff pages' banner.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select

from ..db import Database
from ..engine.events import no_publisher
from ..models import HubLink, Site
from .link import pending_json, prune

log = logging.getLogger(__name__)
JSON_BODY = {"Content-Type": "application/json"}

BATCH = 5000  # the most the hub takes in one batch (server.hub.receive.MAX_ENTRIES)
IDLE_S = 1.0
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
TIMEOUT_S = (5.0, 30.0)  # connect, read
CONFIG_EVERY_S = 10.0  # a site managed at the hub asks for its configuration this often
KEEP_DAYS = 3.0  # acknowledged entries stay this long (a hub restored from a backup asks again)
PRUNE_EVERY_S = 60.0
# Entries deleted per transaction, and transactions per round: short, so the clerks'
# writes (one writer at a time on SQLite) pass between them.
PRUNE_BATCH = 500
PRUNE_ROUNDS = 40


@dataclass
class Round:
    sent: int = 0
    failed: bool = False


def backoff_s(
    failures: int, rng: Callable[[], float] = random.random, most: float = BACKOFF_MAX_S
) -> float:
    """Full jitter: a random wait up to min(most, min * 2**failures)."""
    ceiling = min(most, BACKOFF_MIN_S * (2 ** min(failures, 16)))
    return max(0.05, ceiling * rng())


class SyncWorker:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        http: requests.Session | None = None,
        batch: int = BATCH,
        backoff_max_s: float = BACKOFF_MAX_S,
        timeout_s: float = TIMEOUT_S[1],
        keep_days: float = KEEP_DAYS,
    ) -> None:
        self.keep = timedelta(days=keep_days)
        self.prune_every_s = PRUNE_EVERY_S
        self.prune_batch = PRUNE_BATCH
        self._next_prune: dict[int, float] = {}
        self.backoff_max_s = backoff_max_s
        self.timeout = (min(TIMEOUT_S[0], timeout_s), timeout_s)
        self.db = db
        self.clock = clock
        self.http = http or requests.Session()
        self.batch = batch
        self.failures = 0
        self.on_change: Callable[[int], None] | None = None  # a site's link came up or down
        # Where a configuration change is published (the serving app's Socket.IO).
        self.publisher: Any = no_publisher
        # Accounts the hub's configuration took away: the server cuts off their pages.
        self.on_staff_lost: Callable[[list[int]], None] | None = None
        self.config_every_s = CONFIG_EVERY_S
        self._next_pull: dict[int, float] = {}

    def links(self) -> list[int]:
        with self.db.reads() as session:
            return list(session.scalars(select(HubLink.site_id)))

    def send_once(self, site_id: int) -> Round:
        """One batch of a site's outbox (or, with nothing pending, an empty one to learn
        the hub's position); marks the link up or down."""
        with self.db.reads() as session:
            link = session.get(HubLink, site_id)
            if link is None:
                return Round()
            url, credential, acked = link.hub_url, link.credential, link.acked_seq
            count, entries = pending_json(session, site_id, acked, self.batch)
            site = session.get(Site, site_id)
            assert site is not None
            code, site_last = site.code, site.outbox_seq
        head = {"site": code, "site_id": site_id, "site_last_seq": site_last}
        # The entries' JSON as the outbox holds it, in the body without a second encoding.
        body = f'{json.dumps(head)[:-1]}, "entries": {entries}}}'.encode()
        try:
            answer = self.http.post(
                f"{url}/api/v1/hub/sync",
                data=body,
                headers={"Authorization": f"Bearer {credential}", **JSON_BODY},
                timeout=self.timeout,
            )
        except requests.RequestException as err:
            self._mark(site_id, error=f"{type(err).__name__}")
            return Round(failed=True)
        data: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            data = answer.json()
        if answer.status_code == 409 and data.get("code") == "hub_gap" and count:
            # The hub holds less than it acknowledged once (restored from a backup): an
            # empty batch asks what it holds, and the next one starts from there.
            self.http_empty(url, credential, {**head, "entries": []}, site_id)
            return Round(failed=True)
        if answer.status_code != 200 or not isinstance(data.get("last_seq"), int):
            self._mark(site_id, error=str(data.get("code") or answer.status_code))
            return Round(failed=True)
        self._acked(site_id, data["last_seq"])
        return Round(sent=count)

    def http_empty(self, url: str, credential: str, body: dict[str, Any], site_id: int) -> None:
        try:
            answer = self.http.post(
                f"{url}/api/v1/hub/sync",
                json=body,
                headers={"Authorization": f"Bearer {credential}"},
                timeout=self.timeout,
            )
            last = answer.json().get("last_seq") if answer.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return
        if isinstance(last, int):
            self._acked(site_id, last)

    def _acked(self, site_id: int, last_seq: int) -> None:
        with self.db.writes() as session:
            link = session.get(HubLink, site_id)
            if link is None:
                return
            was_down = link.down_since is not None
            link.acked_seq = last_seq
            link.last_ok_at = self.clock()
            link.down_since = None
            link.last_error = None
            session.commit()
        if was_down and self.on_change is not None:
            self.on_change(site_id)

    def _mark(self, site_id: int, error: str) -> None:
        with self.db.writes() as session:
            link = session.get(HubLink, site_id)
            if link is None:
                return
            went_down = link.down_since is None
            if went_down:
                link.down_since = self.clock()
            link.last_error = error[:300]
            session.commit()
        if went_down and self.on_change is not None:
            self.on_change(site_id)

    def pull_config(self, site_id: int) -> bool:
        """A site managed at the hub: fetch its configuration and apply a new version."""
        from .config import apply_config

        with self.db.reads() as session:
            link = session.get(HubLink, site_id)
            if link is None or link.managed != "hub":
                return False
            url, credential = link.hub_url, link.credential
        try:
            answer = self.http.get(
                f"{url}/api/v1/hub/config",
                headers={"Authorization": f"Bearer {credential}"},
                timeout=self.timeout,
            )
        except requests.RequestException:
            return False  # the last configuration stays; the batch's failure says the rest
        if answer.status_code != 200:
            return False
        config = answer.json()
        if not isinstance(config, dict) or not config.get("version"):
            return False
        return apply_config(
            self.db.writes, site_id, config, self.clock, self.publisher, self.on_staff_lost
        )

    def prune(self, site_id: int) -> int:
        """Delete the entries the hub acknowledged that are older than the retention, in
        small transactions; how many. The hub's answer (``acked_seq``) bounds it: an
        entry the hub does not hold is never deleted."""
        before = self.clock() - self.keep
        deleted = 0
        for _ in range(PRUNE_ROUNDS):
            with self.db.writes() as session:
                link = session.get(HubLink, site_id)
                if link is None:
                    break
                done = prune(session, site_id, link.acked_seq, before, self.prune_batch)
                session.commit()
            deleted += done
            if done < self.prune_batch:
                break
        return deleted

    def step(self) -> Round:
        """Every joined site once; what was sent in all."""
        total = Round()
        for site_id in self.links():
            try:
                result = self.send_once(site_id)
                if not result.failed and time.monotonic() >= self._next_pull.get(site_id, 0.0):
                    self._next_pull[site_id] = time.monotonic() + self.config_every_s
                    self.pull_config(site_id)
                if not result.failed and time.monotonic() >= self._next_prune.get(site_id, 0.0):
                    self._next_prune[site_id] = time.monotonic() + self.prune_every_s
                    self.prune(site_id)
            except Exception:  # a database fault at the site: try again later
                log.exception("sync of site %s failed", site_id)
                result = Round(failed=True)
            total.sent += result.sent
            total.failed = total.failed or result.failed
        return total

    def run(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Forever: full batches back to back, then a pause; a fault backs off."""
        while True:
            result = self.step()
            if result.failed:
                self.failures += 1
                sleep(backoff_s(self.failures, most=self.backoff_max_s))
            elif result.sent >= self.batch:
                self.failures = 0
                sleep(0)
            else:
                self.failures = 0
                sleep(IDLE_S)
