"""Socket.IO: clients join their site's room, get a ``state`` snapshot, then events."""

from .handlers import register_handlers
from .publisher import SocketPublisher, site_room, subscribe_now

__all__ = ["SocketPublisher", "register_handlers", "site_room", "subscribe_now"]
