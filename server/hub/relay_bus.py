"""At the hub: where a citizen's relayed request waits for its site, and its answer for it.

A site server behind a commune's router cannot be reached from the internet; it reaches
the hub. So the hub holds a citizen's request for a site's phone page in that site's
queue, the site's relay worker takes it with a long poll and posts the answer back. With
Redis (a hub of several processes) the queues are Redis lists, so the request may reach
one process and the site's poll another; without it they live in this process.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any, Protocol

# A site counts as reachable while its last poll is this recent (its long poll is 20 s).
POLLED_S = 45.0
# How long a request or an answer waits in Redis for nobody before it is dropped.
KEEP_S = 60


class RelayBus(Protocol):
    def mark_polled(self, site_id: int) -> None: ...

    def polled_recently(self, site_id: int) -> bool: ...

    def put_request(self, site_id: int, item: dict[str, Any]) -> None: ...

    def take_requests(self, site_id: int, wait_s: float, most: int) -> list[dict[str, Any]]: ...

    def put_answer(self, site_id: int, request_id: str, answer: dict[str, Any]) -> bool: ...

    def take_answer(self, request_id: str, wait_s: float) -> dict[str, Any] | None: ...


class MemoryRelayBus:
    """One process: queues in memory (stdlib queues, cooperative under gevent's patching)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._answers: dict[str, tuple[int, queue.Queue[dict[str, Any]]]] = {}
        self._polled: dict[int, float] = {}

    def _queue(self, site_id: int) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            return self._requests.setdefault(site_id, queue.Queue())

    def mark_polled(self, site_id: int) -> None:
        self._polled[site_id] = time.monotonic()

    def polled_recently(self, site_id: int) -> bool:
        return time.monotonic() - self._polled.get(site_id, -POLLED_S) < POLLED_S

    def put_request(self, site_id: int, item: dict[str, Any]) -> None:
        with self._lock:
            self._answers[item["id"]] = (site_id, queue.Queue(maxsize=1))
        self._queue(site_id).put(item)

    def take_requests(self, site_id: int, wait_s: float, most: int) -> list[dict[str, Any]]:
        pending = self._queue(site_id)
        try:
            items = [pending.get(timeout=wait_s) if wait_s > 0 else pending.get_nowait()]
        except queue.Empty:
            return []
        while len(items) < most:
            try:
                items.append(pending.get_nowait())
            except queue.Empty:
                break
        return items

    def put_answer(self, site_id: int, request_id: str, answer: dict[str, Any]) -> bool:
        with self._lock:
            waiting = self._answers.get(request_id)
        if waiting is None or waiting[0] != site_id:
            return False
        try:
            waiting[1].put_nowait(answer)
        except queue.Full:
            return False
        return True

    def take_answer(self, request_id: str, wait_s: float) -> dict[str, Any] | None:
        with self._lock:
            waiting = self._answers.get(request_id)
        if waiting is None:
            return None
        try:
            return waiting[1].get(timeout=wait_s)
        except queue.Empty:
            return None
        finally:
            with self._lock:
                self._answers.pop(request_id, None)


class RedisRelayBus:
    """Several processes: a Redis list per site for the requests, one per request for its answer."""

    def __init__(self, url: str, prefix: str = "xephang:relay") -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix

    def _key(self, *parts: object) -> str:
        return ":".join((self.prefix, *(str(p) for p in parts)))

    def mark_polled(self, site_id: int) -> None:
        self.redis.set(self._key("polled", site_id), "1", ex=int(POLLED_S))

    def polled_recently(self, site_id: int) -> bool:
        return bool(self.redis.exists(self._key("polled", site_id)))

    def put_request(self, site_id: int, item: dict[str, Any]) -> None:
        key = self._key("requests", site_id)
        with self.redis.pipeline() as pipe:
            pipe.set(self._key("owner", item["id"]), str(site_id), ex=KEEP_S)
            pipe.rpush(key, json.dumps(item))
            pipe.expire(key, KEEP_S)
            pipe.execute()

    def take_requests(self, site_id: int, wait_s: float, most: int) -> list[dict[str, Any]]:
        key = self._key("requests", site_id)
        if wait_s > 0:
            first = self.redis.blpop([key], timeout=wait_s)
            if first is None:
                return []
            raw = [first[1]]
        else:
            raw = []
        if most > len(raw):
            raw += list(self.redis.lpop(key, most - len(raw)) or [])
        return [json.loads(item) for item in raw]

    def put_answer(self, site_id: int, request_id: str, answer: dict[str, Any]) -> bool:
        owner = self.redis.get(self._key("owner", request_id))
        if owner is None or owner.decode() != str(site_id):
            return False
        key = self._key("answer", request_id)
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, json.dumps(answer))
            pipe.expire(key, KEEP_S)
            pipe.delete(self._key("owner", request_id))
            pipe.execute()
        return True

    def take_answer(self, request_id: str, wait_s: float) -> dict[str, Any] | None:
        key = self._key("answer", request_id)
        found = self.redis.blpop([key], timeout=wait_s)
        self.redis.delete(key, self._key("owner", request_id))
        return json.loads(found[1]) if found is not None else None


def relay_bus(config: Any) -> RelayBus:
    """The bus this hub uses: Redis when it has one, else this process's memory."""
    url = config.get("REDIS_URL")
    channel = config.get("REDIS_CHANNEL") or "xephang"
    return RedisRelayBus(url, prefix=f"{channel}:relay") if url else MemoryRelayBus()
