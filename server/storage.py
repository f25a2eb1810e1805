"""When the database cannot store anything: a read-only file, a full disk, a lost server.

A request that meets such a fault answers 503 with what is wrong, in
Vietnamese, instead of a generic 500: nothing the client sent was at fault and
trying again later can work. The log gets one line per minute while the fault
lasts (how many requests it refused since the last line), not a traceback per
request; ``/healthz`` probes the database and reports the same fault.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .db import Database, is_disconnect

log = logging.getLogger(__name__)

READ_ONLY, FULL, IO_ERROR, UNREACHABLE = "read_only", "full", "io_error", "unreachable"
DB_ERROR = "error"  # only /healthz says this: any other refusal of its probe

# What a person is told, by fault (the API's code for all of them is storage_unavailable).
REASONS: dict[str, str] = {
    READ_ONLY: "cơ sở dữ liệu đang ở chế độ chỉ đọc (tệp, thư mục hoặc máy chủ chỉ cho đọc)",
    FULL: "ổ đĩa của cơ sở dữ liệu đã đầy",
    IO_ERROR: "không đọc ghi được tệp cơ sở dữ liệu",
    UNREACHABLE: "không kết nối được máy chủ cơ sở dữ liệu",
    DB_ERROR: "cơ sở dữ liệu báo lỗi (chưa chạy `xephang init`?), xem nhật ký máy chủ",
}

# SQLite result codes (the primary code is the low byte of an extended one).
_SQLITE = {8: READ_ONLY, 13: FULL, 10: IO_ERROR, 14: IO_ERROR}
# PostgreSQL SQLSTATEs: read_only_sql_transaction, disk_full, insufficient_resources.
_SQLSTATE = {"25006": READ_ONLY, "53100": FULL, "53000": FULL}
_ERRNO = {errno.EROFS: READ_ONLY, errno.ENOSPC: FULL, errno.EDQUOT: FULL}

LOG_INTERVAL_S = 60.0


def storage_fault(err: BaseException) -> str | None:
    """The kind of storage fault behind a database error, or None if it is something else."""
    orig = err.orig if isinstance(err, DBAPIError) else err
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE.get(code & 0xFF)
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate in _SQLSTATE:
        return _SQLSTATE[sqlstate]
    if isinstance(orig, OSError) and orig.errno in _ERRNO:
        return _ERRNO[orig.errno]
    if isinstance(err, DBAPIError) and is_disconnect(err):
        return UNREACHABLE
    return None


def reason_text(kind: str) -> str:
    return REASONS.get(kind, REASONS[IO_ERROR])


@dataclass
class _Seen:
    kind: str
    at: float
    detail: str


class StorageWatch:
    """The storage faults one process has met: the last one, and a log line per minute."""

    def __init__(
        self, interval: float = LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._last: _Seen | None = None
        self._logged_at: float | None = None
        self._unlogged = 0

    def record(self, kind: str, err: BaseException) -> None:
        """Note a fault; log it unless a line was written less than ``interval`` ago."""
        detail = str(getattr(err, "orig", None) or err).splitlines()[0][:300]
        now = self.clock()
        with self._lock:
            self._last = _Seen(kind, now, detail)
            if self._logged_at is not None and now - self._logged_at < self.interval:
                self._unlogged += 1
                return
            refused, self._unlogged, self._logged_at = self._unlogged, 0, now
        log.error(
            "database unavailable (%s): %s; requests get 503 (%d more since the last line)",
            kind,
            detail,
            refused,
        )

    def recent(self) -> str | None:
        """The kind of the last fault, if it was met within the last ``interval``."""
        with self._lock:
            if self._last is None or self.clock() - self._last.at >= self.interval:
                return None
            return self._last.kind

    def clear(self) -> None:
        with self._lock:
            self._last = None


def probe(db: Database, watch: StorageWatch | None = None) -> str | None:
    """Try a write that changes nothing (rolled back); the fault it meets, if any.

    ``UPDATE … WHERE false`` needs a write transaction on both databases: a
    read-only SQLite file refuses it (SQLITE_READONLY), and so does a
    PostgreSQL session or server in read-only mode. A full disk shows only on
    a real write, which is why ``StorageWatch.recent`` is consulted too.
    """
    try:
        with db.writes() as session:
            session.execute(text("UPDATE sites SET seq = seq WHERE 1 = 0"))
            session.rollback()
    except (DBAPIError, OSError) as err:
        kind = storage_fault(err) or (IO_ERROR if isinstance(err, OSError) else DB_ERROR)
        if watch is not None:
            watch.record(kind, err)
        return kind
    return None
