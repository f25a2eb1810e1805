"""Publishes committed engine events to Socket.IO rooms (through Redis when configured)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engine.events import Event


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
