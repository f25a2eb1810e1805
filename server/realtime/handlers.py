"""Socket.IO handlers: authenticate, join the site's room, send the snapshot."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_socketio import ConnectionRefusedError, SocketIO, disconnect, emit, join_room
from sqlalchemy import select

from ..accounts.security import current_staff
from ..engine.errors import QueueError
from ..engine.views import site_state
from ..messages import error_text
from ..models import ApiToken, Site, User
from ..runtime import runtime
from ..tokens import Principal, resolve_token
from .publisher import site_room


def _principal(auth: Any) -> Any:
    """A device by its token, or a staff page by its login session (on a site they work for)."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str):
        with runtime().db.reads() as session:
            return resolve_token(session, token)
    staff = current_staff()
    if staff is None:
        return None
    wanted = auth.get("site") if isinstance(auth, dict) else None
    with runtime().db.reads() as session:
        if isinstance(wanted, str):
            site = session.execute(select(Site).where(Site.code == wanted)).scalar_one_or_none()
        elif len(staff.site_ids) == 1:
            site = session.get(Site, staff.site_ids[0])
        else:
            site = None
        if site is None or not staff.works_for(site.id):
            return None
        return Principal(0, site.id, site.code, staff.role, None, user_id=staff.id)


def _revoked(token_id: Any, user_id: Any) -> bool:
    """Whether the token (or the staff account) a client connected with is gone by now."""
    with runtime().db.reads() as session:
        if isinstance(user_id, int):
            user = session.get(User, user_id)
            return user is None or not user.active
        if not isinstance(token_id, int):
            return True
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
        flask_session["xephang_user_id"] = principal.user_id
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
        if _revoked(flask_session.get("xephang_token_id"), flask_session.get("xephang_user_id")):
            disconnect()  # the token was revoked (or the account closed) since it connected
            return
        try:
            _send_state(site_code)
        except QueueError:
            current_app.logger.warning("sync for unknown site %s", site_code)
