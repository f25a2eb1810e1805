"""Socket.IO handlers: authenticate, join the site's room, send the snapshot.

Each connection also joins a room per credential it came in with (``realtime.cutoff``),
so revoking that credential disconnects it at once; and each message it sends counts
against its budget (``realtime.flow``): a flood of ``sync`` is answered once a second.
A new handler of a client message is registered through ``flow.guard``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NoReturn

from flask import current_app, request
from flask import session as flask_session
from flask_socketio import ConnectionRefusedError, SocketIO, join_room
from sqlalchemy import select

from server.kiosk_pages.job_socket import kiosk_connected, register_print_handlers

from ..accounts.security import current_staff
from ..accounts.services import live_session_user
from ..engine.errors import QueueError
from ..engine.views import site_state
from ..errors import bad_text
from ..messages import error_text
from ..models import ApiToken, Site
from ..runtime import runtime
from ..tokens import Principal, resolve_token
from .cutoff import login_room, token_room, user_room
from .flow import ConnectionFlow
from .live import SITE_SNAPSHOT
from .phone import SNAPSHOT, connect_phone, is_phone, phone_snapshot, phone_token, wants_phone
from .publisher import site_room

SESSION_KEY = "xephang_credentials"


@dataclass(frozen=True)
class Credentials:
    """What a connection was let in with: a device token, or a staff login session."""

    site_code: str
    token_id: int | None = None
    user_id: int | None = None
    login_key: str | None = None

    def rooms(self) -> list[str]:
        if self.user_id is not None and self.login_key is not None:
            return [user_room(self.user_id), login_room(self.login_key)]
        return [token_room(self.token_id)] if self.token_id is not None else []

    def revoked(self) -> bool:
        """Whether the token, the login session or the account is gone by now."""
        with runtime().db.reads() as session:
            if self.user_id is not None and self.login_key is not None:
                return live_session_user(session, self.user_id, self.login_key) is None
            if self.token_id is None:
                return True
            token = session.get(ApiToken, self.token_id)
            return token is None or token.revoked_at is not None


def _admit(auth: Any) -> tuple[Principal, Credentials] | None:
    """A device by its token, or a staff page by its login session (on a site they work for)."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str):
        with runtime().db.reads() as session:
            device = resolve_token(session, token)
        if device is None:
            return None
        return device, Credentials(device.site_code, token_id=device.token_id)
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
        principal = Principal(0, site.id, site.code, staff.role, None, user_id=staff.id)
    return principal, Credentials(site.code, user_id=staff.id, login_key=staff.login_key)


def _credentials() -> Credentials | None:
    saved = flask_session.get(SESSION_KEY)
    return saved if isinstance(saved, Credentials) else None


def _state(site_code: str) -> dict[str, Any]:
    rt = runtime()
    with rt.db.reads() as session:
        return site_state(session, site_code, rt.clock())


MAX_AUTH_TEXT = 200  # a token is 47 characters, a site code at most 40


def _auth_is_clean(auth: Any) -> bool:
    """Whether ``auth``'s token and site are text a query can take (no NUL, no lone
    surrogate from JSON ``"\\udc80"``, not absurdly long): such a value failed in the
    driver, unhandled, and the client waited seconds for an answer."""
    if not isinstance(auth, dict):
        return True
    for key in ("token", "site", "tracking_token"):
        value = auth.get(key)
        if isinstance(value, str) and (len(value) > MAX_AUTH_TEXT or bad_text(value)):
            return False
    return True


def _refuse(code: str) -> NoReturn:
    """Refuse a connection: the client's connect_error gets ``{"message": Vietnamese text,
    "data": {"code": code}}`` (one dict argument would reach it only as its str())."""
    raise ConnectionRefusedError(error_text(code), {"code": code})


def register_handlers(socketio: SocketIO, flow: ConnectionFlow | None = None) -> ConnectionFlow:
    flow = flow or ConnectionFlow()
    register_print_handlers(socketio, guard=flow.guard)

    def answer_sync(sid: str, credentials: Credentials) -> None:
        if credentials.revoked():  # revoked where no message queue could tell this process
            socketio.server.disconnect(sid)
            return
        try:
            socketio.emit(SITE_SNAPSHOT, _state(credentials.site_code), to=sid)
        except QueueError:
            current_app.logger.warning("sync for unknown site %s", credentials.site_code)

    def answer_phone(sid: str, token: str | None) -> None:
        view = phone_snapshot(token)
        if view is None:  # its tracking token was renewed since it connected
            socketio.server.disconnect(sid)
            return
        socketio.emit(SNAPSHOT, view, to=sid)

    def answer_later(app: Any, sid: str, answer: Callable[[], None], wait: float) -> None:
        socketio.sleep(wait)
        flow.snapshot_sent(sid)
        with app.app_context():
            answer()

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> None:
        if not _auth_is_clean(auth):
            _refuse("invalid_text")
        if wants_phone(auth):  # a citizen's phone: its ticket's rooms, by the token alone
            connect_phone(auth)
            flow.snapshot_sent(request.sid)  # type: ignore[attr-defined]
            return
        admitted = _admit(auth)
        if admitted is None:
            _refuse("socket_unauthorized")
        principal, credentials = admitted
        for room in credentials.rooms():
            join_room(room)
        # Revoked between the check above and joining its room: the cut-off was missed.
        if credentials.revoked():
            _refuse("socket_unauthorized")
        flask_session[SESSION_KEY] = credentials
        join_room(site_room(principal.site_code))
        flow.snapshot_sent(request.sid)  # type: ignore[attr-defined]
        socketio.emit(SITE_SNAPSHOT, _state(principal.site_code), to=request.sid)  # type: ignore[attr-defined]
        if principal.role == "kiosk":  # its device room and its pending print jobs
            kiosk_connected(principal)

    @socketio.on("sync")
    def on_sync(_data: Any = None) -> None:
        """A client that saw a gap in ``seq`` asks for the snapshot again (once a second)."""
        sid: str = request.sid  # type: ignore[attr-defined]
        answer: Callable[[], None]
        if is_phone():
            answer = partial(answer_phone, sid, phone_token())
        else:
            credentials = _credentials()
            if credentials is None:
                return
            answer = partial(answer_sync, sid, credentials)
        if not flow.admit(sid):
            return
        wait = flow.plan_sync(sid)
        if wait is None:
            return  # joins the answer already planned
        if wait == 0:
            answer()
            return
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        socketio.start_background_task(answer_later, app, sid, answer, wait)

    @socketio.on("disconnect")
    def on_disconnect(*_args: Any) -> None:
        flow.forget(request.sid)  # type: ignore[attr-defined]

    return flow
