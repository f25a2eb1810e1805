"""Publishes committed engine events to Socket.IO rooms (through Redis when configured)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from ..engine.events import Event

log = logging.getLogger(__name__)


def site_room(site_code: str) -> str:
    return f"site:{site_code}"


class SocketPublisher:
    """Sends each event to its site's room; works from a web or a command-line process."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio

    def __call__(self, events: Sequence[Event]) -> None:
        for event in events:
            self.socketio.emit(event.name, event.message(), to=site_room(event.site_code))


def command_line_publisher(redis_url: str, channel: str) -> SocketPublisher:
    """A write-only Socket.IO handle, so a CLI process can publish through Redis."""
    from flask_socketio import SocketIO

    return SocketPublisher(SocketIO(message_queue=redis_url, channel=channel))


def subscribe_now(socketio: Any, timeout: float = 5.0) -> None:
    """Listen to the message queue from start-up, not from the first client's connection.

    python-socketio subscribes lazily, in the background, when the first client
    connects: an event another process publishes between that client's snapshot
    and the subscription would be lost, and the client would only notice the gap
    in ``seq`` at the next event, which may come much later.
    """
    from socketio import PubSubManager

    server = socketio.server
    manager = server.manager
    if not isinstance(manager, PubSubManager) or server.manager_initialized:
        return
    server.manager_initialized = True
    manager.initialize()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pubsub = getattr(manager, "pubsub", None)
        if pubsub is not None and getattr(pubsub, "subscribed", False):
            return
        socketio.sleep(0.05)
    log.warning("not yet subscribed to the message queue after %.0f s; serving anyway", timeout)
