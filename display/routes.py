"""The display pages: thin views that hand the snapshot and the options to the page scripts."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, render_template, request, send_from_directory
from flask_babel import get_locale
from flask_babel import gettext as _

from kiosk.fonts import FOLDER
from server.devices import device_settings, device_token, paired
from server.engine.views import site_state
from server.realtime.live import live_boot
from server.runtime import runtime
from server.tokens import Principal

from . import bp
from .options import DisplayOptions, parse_options

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
FONT_MAX_AGE_S = 30 * 24 * 3600


def _options(principal: Principal) -> DisplayOptions:
    return parse_options(request.args, device_settings(principal), current_app.config)


def _snapshot(principal: Principal) -> dict[str, Any]:
    rt = runtime()
    with rt.db.reads() as session:
        return site_state(session, principal.site_code, rt.clock())


def texts() -> dict[str, str]:
    """What the scripts write on the screen, in the page's language."""
    return {
        "counter": _("Quầy"),
        "paused": _("Đang tạm dừng"),
        "paused_long": _("Tạm dừng phục vụ"),
        "waiting_people": _("người chờ"),
        # A service no counter calls now (none open with a clerk signed in).
        "no_counter": _("Chưa có quầy phục vụ"),
        "invite": _("Mời công dân có số"),
        "to_counter": _("đến quầy"),
        "offline": _("Mất kết nối máy chủ — đang kết nối lại…"),
        "unlock_sound": _("Chạm để bật âm thanh"),
        "no_calls": _("Chưa có số nào được gọi"),
        "called_at": _("Gọi lúc"),
        "clerk": _("Cán bộ tiếp nhận"),
        "no_clerk": _("Chưa có cán bộ đăng nhập tại quầy"),
        "serves": _("Tiếp nhận"),
    }


def _page(template: str, principal: Principal, **extra: Any) -> str:
    options = _options(principal)
    boot = {
        "token": device_token(),
        "state": _snapshot(principal),
        "options": options.for_script(),
        "texts": texts(),
        "lang": str(get_locale() or "vi"),
        "live": live_boot(),
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

    return send_from_directory(FOLDER, name, mimetype="font/ttf", max_age=FONT_MAX_AGE_S)
