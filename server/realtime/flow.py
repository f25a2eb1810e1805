"""How much one connection may ask of the server: a bounded rate of messages, and at most
one ``state`` snapshot a second however often it sends ``sync``.

A snapshot reads the whole site (services, counters, waiting counts, estimates); one
display sending 3,000 ``sync`` in a burst used to hold the server for seconds, and every
kiosk's ticket waited behind it. Now a ``sync`` within a second of the connection's last
snapshot is answered once, when the second is up, however many came meanwhile; and any
client message past a small budget (a token bucket per connection) is dropped, with one
log line per connection.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from flask import request

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

SYNC_INTERVAL_S = 1.0
# A page sends a message now and then (a sync after a gap, a print acknowledgement): a
# burst of 20, then 5 a second, is far above what a well-behaved client needs.
MESSAGE_BURST = 20
MESSAGES_PER_S = 5.0
DROPPED = {"accepted": False, "reason": "too_many_messages"}


@dataclass
class _Connection:
    tokens: float
    refilled: float
    last_snapshot: float = -math.inf
    deferred: bool = False
    dropped: int = 0


@dataclass
class ConnectionFlow:
    """Per connection (by Socket.IO sid): its message budget and when it last got a snapshot."""

    sync_interval: float = SYNC_INTERVAL_S
    burst: int = MESSAGE_BURST
    rate: float = MESSAGES_PER_S
    clock: Callable[[], float] = time.monotonic
    _connections: dict[str, _Connection] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _get(self, sid: str, now: float) -> _Connection:
        conn = self._connections.get(sid)
        if conn is None:
            conn = self._connections[sid] = _Connection(float(self.burst), now)
        return conn

    def admit(self, sid: str) -> bool:
        """Whether this message of ``sid`` is within its budget (else it is dropped)."""
        now = self.clock()
        with self._lock:
            conn = self._get(sid, now)
            conn.tokens = min(float(self.burst), conn.tokens + (now - conn.refilled) * self.rate)
            conn.refilled = now
            if conn.tokens >= 1.0:
                conn.tokens -= 1.0
                return True
            conn.dropped += 1
            first = conn.dropped == 1
        if first:
            log.warning("connection %s sends too many messages: dropping the extra ones", sid)
        return False

    def snapshot_sent(self, sid: str) -> None:
        now = self.clock()
        with self._lock:
            conn = self._get(sid, now)
            conn.last_snapshot = now
            conn.deferred = False

    def plan_sync(self, sid: str) -> float | None:
        """0: answer this ``sync`` now; > 0: answer once, that many seconds from now;
        None: an answer is already planned, which this one joins."""
        now = self.clock()
        with self._lock:
            conn = self._get(sid, now)
            if conn.deferred:
                return None
            wait = conn.last_snapshot + self.sync_interval - now
            if wait <= 0:
                conn.last_snapshot = now
                return 0.0
            conn.deferred = True
            return wait

    def forget(self, sid: str) -> None:
        with self._lock:
            self._connections.pop(sid, None)

    def guard(self, handler: F) -> F:
        """A handler that runs only for a message within its connection's budget."""

        @wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self.admit(request.sid):  # type: ignore[attr-defined]
                return dict(DROPPED)
            return handler(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
