"""Cutting off live connections whose credentials ended, on every server process at once.

Every Socket.IO connection joins a room per credential it was let in with: its device
token (``token:<id>``), or its staff account (``user:<id>``) and login session
(``login:<key>``). Revoking a token, deactivating an account, a password change and
logging out *close* that room, and closing one of these rooms disconnects its
members, here and in every process listening on the message queue: python-socketio
already sends ``close_room`` to every process; the managers below make it a
disconnect for these rooms. A command-line process (``xephang token revoke``) only
publishes the ``close_room`` message; the serving processes act on it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import Any

import socketio

from ..tokens import forget_token

log = logging.getLogger(__name__)

NAMESPACE = "/"
# The rooms whose closing disconnects their members.
_PREFIXES = ("token:", "user:", "login:")


def token_room(token_id: int) -> str:
    return f"token:{token_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def login_room(key: str) -> str:
    return f"login:{key}"


class _CutOff:
    """Closing a credential room disconnects the clients in it (in this process)."""

    server: Any

    def basic_close_room(self, room: str, namespace: str) -> None:
        if isinstance(room, str) and room.startswith("token:"):
            # The same signal ends this process's cached lookups of the token (server.tokens).
            with contextlib.suppress(ValueError):
                forget_token(int(room.removeprefix("token:")))
        if isinstance(room, str) and room.startswith(_PREFIXES):
            members = [sid for sid, _eio in self.get_participants(namespace, room)]  # type: ignore[attr-defined]
            for sid in members:
                self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
            if members:
                log.info("cut off %d connection(s) of %s", len(members), room)
        super().basic_close_room(room, namespace)  # type: ignore[misc]


class CutOffManager(_CutOff, socketio.Manager):  # type: ignore[misc]
    """One process: the clients are all here."""


class CutOffRedisManager(_CutOff, socketio.RedisManager):  # type: ignore[misc]
    """Several processes: ``close_room`` reaches every one of them through Redis."""


def cut_off(sio: Any, rooms: Iterable[str]) -> None:
    """Disconnect every client in these rooms, on every process (``sio``: a Flask-SocketIO)."""
    for room in rooms:
        try:
            sio.close_room(room, namespace=NAMESPACE)
        except Exception:  # the change is committed; the sync check still refuses it
            log.exception("could not cut off %s", room)
