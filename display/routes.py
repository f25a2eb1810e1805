"""The display pages: thin views that hand the snapshot and the options to the page scripts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, abort, current_app, render_template, request, send_from_directory
from flask_babel import get_locale
from flask_babel import gettext as _

from server.devices import device_token, paired
from server.engine.views import site_state
from server.models import ApiToken
from server.runtime import runtime
from server.tokens import Principal

from . import bp
from .options import DisplayOptions, parse_options

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
FONT_MAX_AGE_S = 30 * 24 * 3600


def _device_settings(principal: Principal) -> Mapping[str, Any]:
    with runtime().db.reads() as session:
        token = session.get(ApiToken, principal.token_id)
        settings = token.settings if token is not None else None
    return settings if isinstance(settings, Mapping) else {}


def _options(principal: Principal) -> DisplayOptions:
    return parse_options(request.args, _device_settings(principal), current_app.config)


def _snapshot(principal: Principal) -> dict[str, Any]:
    rt = runtime()
    with rt.db.reads() as session:
        return site_state(session, principal.site_code, rt.clock())


def texts() -> dict[str, str]:
    """What the scripts write on the screen, in the page's language."""
    return {
        "counter": _("Quầy"),
        "paused": _("Tạm ngừng"),
        "paused_long": _("Tạm ngừng phục vụ"),
        "waiting_people": _("người chờ"),
        "invite": _("Mời công dân có số"),
        "to_counter": _("đến quầy"),
        "offline": _("Mất kết nối máy chủ — đang kết nối lại…"),
        "unlock_sound": _("Chạm để bật âm thanh"),
        "no_calls": _("Chưa có số nào được gọi"),
    }


def _page(template: str, principal: Principal, **extra: Any) -> str:
    options = _options(principal)
    boot = {
        "token": device_token(),
        "state": _snapshot(principal),
        "options": options.for_script(),
        "texts": texts(),
        "lang": str(get_locale() or "vi"),
        **extra,
    }
    return render_template(
        template, boot=boot, options=options, state=boot["state"], texts=boot["texts"], **extra
    )


@bp.get("/")
@paired("display")
def lobby(principal: Principal) -> str:
    return _page("display/lobby.html", principal)


@bp.get("/counter/<int(min=1, max=2147483647):n>")
@paired("display")
def counter(principal: Principal, n: int) -> str:
    return _page("display/counter.html", principal, counter=n)


@bp.get("/fonts/<name>")
def font(name: str) -> Response:
    if name not in FONT_FILES:
        abort(404)
    from kiosk.fonts import FOLDER

    return send_from_directory(FOLDER, name, mimetype="font/ttf", max_age=FONT_MAX_AGE_S)
