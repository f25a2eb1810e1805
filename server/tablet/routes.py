"""The tablet's page: a thin view that hands the counter, the clerk and the scale to the script."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..devices import device_token, paired
from ..engine.ratings import REASONS, SCALES, is_low
from ..engine.views import clerk_dict
from ..messages import RATING_LEVELS, RATING_REASONS
from ..models import Counter, Site
from ..realtime.live import live_boot
from ..runtime import runtime
from ..tokens import Principal
from . import bp

# How long the buttons wait for a tap, and how long the thanks stay, before the idle screen.
RATING_TIMEOUT_MS = 120_000
THANKS_MS = 6_000
DEFAULT_SCALE = 4


def texts() -> dict[str, str]:
    """What the script writes on the screen, in the page's language."""
    return {
        "counter": _("Quầy"),
        "welcome": _("Xin chào quý công dân"),
        "clerk": _("Cán bộ tiếp nhận"),
        "no_clerk": _("Chưa có cán bộ đăng nhập tại quầy"),
        "question": _("Quý công dân có hài lòng với việc giải quyết hồ sơ vừa rồi?"),
        "ticket": _("Phiếu số"),
        "reasons_question": _("Điều gì làm quý công dân chưa hài lòng? (có thể chọn nhiều)"),
        "send": _("Gửi đánh giá"),
        "skip": _("Bỏ qua"),
        "thanks": _("Cảm ơn quý công dân đã đánh giá!"),
        "thanks_more": _("Ý kiến của quý công dân giúp chúng tôi phục vụ tốt hơn."),
        "refused": _("Không thể ghi nhận đánh giá cho phiếu này."),
        "failed": _("Chưa gửi được đánh giá, vui lòng chạm lại."),
        "offline": _("Mất kết nối máy chủ — đang kết nối lại…"),
    }


def rating_levels(scale: int) -> list[dict[str, Any]]:
    """The buttons, best first, as they are laid out; the score of the best is the scale."""
    levels = RATING_LEVELS.get(scale, RATING_LEVELS[DEFAULT_SCALE])
    return [
        {"score": scale - i, "label": _(label), "low": is_low(scale - i, scale)}
        for i, label in enumerate(levels)
    ]


def rating_reasons() -> list[dict[str, str]]:
    return [{"code": code, "label": _(RATING_REASONS[code])} for code in REASONS]


def _shown(clerk: dict[str, Any] | None) -> dict[str, Any] | None:
    return {"name": clerk["name"], "photo_url": clerk["photo_url"]} if clerk else None


def _boot(principal: Principal) -> dict[str, Any]:
    with runtime().db.reads() as session:
        site = session.get(Site, principal.site_id)
        counter = session.execute(
            select(Counter).where(
                Counter.site_id == principal.site_id, Counter.number == principal.counter
            )
        ).scalar_one_or_none()
        scale = site.rating_scale if site is not None and site.rating_scale in SCALES else 4
        return {
            "token": device_token(),
            "site": {"code": principal.site_code, "name": site.name if site else ""},
            "counter": {
                "number": principal.counter,
                "name": counter.name if counter else "",
            },
            # As counter.updated events name the clerk (they update it live), less the id.
            "clerk": _shown(clerk_dict(session, counter.clerk_id) if counter else None),
            "scale": scale,
            "levels": rating_levels(scale),
            "reasons": rating_reasons(),
            "texts": texts(),
            "timeouts": {"rating_ms": RATING_TIMEOUT_MS, "thanks_ms": THANKS_MS},
            "lang": str(get_locale() or "vi"),
            "live": live_boot(),
        }


@bp.get("/")
@paired("tablet")
def home(principal: Principal) -> str:
    boot = _boot(principal)
    return render_template("tablet/page.html", boot=boot, texts=boot["texts"])
