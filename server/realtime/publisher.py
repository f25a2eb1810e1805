"""Sends what a commit publishes as Socket.IO messages to their rooms (through Redis when
configured). The engine hands them over as ``Event`` (its name for a message to publish);
a row of ``ticket_events`` is an event of the log, never sent from here."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from flask_socketio import SocketIO
from socketio import PubSubManager

from ..engine.events import Event
from .phone import phone_messages

log = logging.getLogger(__name__)


def site_room(site_code: str) -> str:
    return f"site:{site_code}"


class SocketPublisher:
    """Sends each message to its site's room, and to the phones what concerns them
    (``realtime.phone``: a ticket's changes to its own room only); works from a web or a
    command-line process."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio

    def __call__(self, events: Sequence[Event]) -> None:
        for event in events:
            self.socketio.emit(event.name, event.message(), to=site_room(event.site_code))
        for name, message, room in phone_messages(events):
            self.socketio.emit(name, message, to=room)


def command_line_socketio(redis_url: str, channel: str) -> Any:
    """A write-only Socket.IO handle, so a CLI process can publish (and cut off) through Redis."""

    return SocketIO(message_queue=redis_url, channel=channel)


def subscribe_now(socketio: Any, timeout: float = 5.0) -> None:
    """Listen to the message queue from start-up, not from the first client's connection.

    python-socketio subscribes lazily, in the background, when the first client
    connects: an event another process publishes between that client's snapshot
    and the subscription would be lost, and the client would only notice the gap
    in ``seq`` at the next event, which may come much later.
    """

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
