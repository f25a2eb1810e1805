"""Socket.IO handlers: authenticate, join the site's room, send the snapshot."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_socketio import ConnectionRefusedError, SocketIO, disconnect, emit, join_room

from ..engine.errors import QueueError
from ..engine.views import site_state
from ..messages import error_text
from ..models import ApiToken
from ..runtime import runtime
from ..tokens import resolve_token
from .publisher import site_room


def _principal(auth: Any) -> Any:
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(token, str):
        return None
    rt = runtime()
    with rt.db.reads() as session:
        return resolve_token(session, token)


def _revoked(token_id: Any) -> bool:
    """Whether the token a client connected with is gone (revoked) by now."""
    if not isinstance(token_id, int):
        return True
    with runtime().db.reads() as session:
        token = session.get(ApiToken, token_id)
        return token is None or token.revoked_at is not None


def _send_state(site_code: str) -> None:
    rt = runtime()
    with rt.db.reads() as session:
        emit("state", site_state(session, site_code, rt.clock()))


def register_handlers(socketio: SocketIO) -> None:
    from kiosk.job_socket import kiosk_connected, register_print_handlers

    register_print_handlers(socketio)

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> None:
        principal = _principal(auth)
        if principal is None:
            raise ConnectionRefusedError(
                {"code": "socket_unauthorized", "detail": error_text("socket_unauthorized")}
            )
        from flask import session as flask_session

        flask_session["xephang_site"] = principal.site_code
        flask_session["xephang_token_id"] = principal.token_id
        join_room(site_room(principal.site_code))
        _send_state(principal.site_code)
        if principal.role == "kiosk":  # its device room and its pending print jobs
            kiosk_connected(principal)

    @socketio.on("sync")
    def on_sync(_data: Any = None) -> None:
        """A client that saw a gap in ``seq`` asks for the snapshot again."""
        from flask import session as flask_session

        site_code = flask_session.get("xephang_site")
        if not isinstance(site_code, str):
            return
        if _revoked(flask_session.get("xephang_token_id")):
            disconnect()  # the token was revoked since this client connected
            return
        try:
            _send_state(site_code)
        except QueueError:
            current_app.logger.warning("sync for unknown site %s", site_code)
