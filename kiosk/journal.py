"""The kiosk agent's journal: which print jobs it has already printed.

The server sends a job again until it hears the agent's acknowledgement, and
an acknowledgement can be lost with the connection. The agent writes a job's
id here right after the printer took the ticket and before it acknowledges,
so a job sent again is acknowledged again but never printed twice.

One small JSON file per device token in the state directory, replaced
atomically (temporary file, fsync, rename), so a power cut leaves either the
old journal or the new one, never half of one. Only the newest ids are kept:
the server stops sending a job once it is acknowledged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

KEEP = 1000  # ids remembered; far more than can be pending across one outage
VERSION = 1


def journal_path(state_dir: Path, token: str) -> Path:
    """Named by the token's fingerprint: another device's (or server's) ids are other ids."""
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]
    return state_dir / f"printed-jobs-{fingerprint}.json"


class Journal:
    """A persistent set of printed job ids (thread-safe)."""

    def __init__(self, path: Path, keep: int = KEEP) -> None:
        self.path = path
        self.keep = keep
        self._lock = threading.Lock()
        self._printed: dict[int, str] = self._load()

    def _load(self) -> dict[int, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            printed = data["printed"]
            return {int(job_id): str(at) for job_id, at in printed.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            # Keep the bad file for a person to look at; start afresh.
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            with contextlib.suppress(OSError):
                self.path.replace(aside)
            log.error("print journal %s unreadable (%s); moved to %s", self.path, err, aside)
            return {}

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._printed

    def __len__(self) -> int:
        with self._lock:
            return len(self._printed)

    def record(self, job_id: int) -> None:
        """Remember a printed job, on disk, before this returns."""
        with self._lock:
            self._printed[job_id] = datetime.now(UTC).isoformat(timespec="seconds")
            for old in sorted(self._printed)[: max(0, len(self._printed) - self.keep)]:
                del self._printed[old]
            self._write({str(k): v for k, v in sorted(self._printed.items())})

    def _write(self, printed: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"version": VERSION, "printed": printed}, indent=0)
        fd, tmp = tempfile.mkstemp(prefix=".journal-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _sync_dir(self.path.parent)


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
