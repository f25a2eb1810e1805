"""The clerk's pages: choose a counter (signing in there), then the workstation.

Thin views: who may see what is decided here, the queue operations themselves are the
REST API's (the page's script calls it with the login session and the CSRF token), and
signing in or out at a counter is ``engine.sign_in`` / ``engine.release``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from .. import engine, reports
from ..accounts.security import Staff, current_staff, staff_required
from ..engine.errors import QueueError
from ..messages import PRIORITY_LABELS, error_text
from ..models import Site
from ..realtime.live import live_boot
from ..runtime import runtime
from . import board, bp

STAFF = ("clerk", "manager", "admin")
MANAGERS = ("manager", "admin")


def texts() -> dict[str, str]:
    """What the workstation's script writes on the screen, in the page's language."""
    return {
        "connected": _("Đã kết nối"),
        "offline": _("Mất kết nối — đang kết nối lại…"),
        "no_clerk": _("Chưa có cán bộ"),
        "no_ticket": _("Chưa gọi số nào"),
        "no_ticket_hint": _("Nhấn G để gọi công dân tiếp theo."),
        "status_called": _("Đang gọi"),
        "status_serving": _("Đang phục vụ"),
        # Elapsed time, said as such ("Đã gọi 14:54" read like a clock).
        "timer_called": _("Đã gọi cách đây {elapsed}"),
        "timer_serving": _("Đã phục vụ được {elapsed}"),
        "elapsed_seconds": _("{s} giây"),
        "elapsed_minutes": _("{m} phút {s} giây"),
        "recalls": _("Đã gọi lại {n} lần"),
        "priority": _("Ưu tiên"),
        "paused": _("Quầy đang tạm dừng. Nhấn T để tiếp tục phục vụ."),
        "pause": _("Tạm dừng"),
        "resume": _("Tiếp tục"),
        "sending": _("Đang gửi…"),
        "call": _("Gọi"),
        "waiting_empty": _("Không có công dân nào đang chờ."),
        "no_show_empty": _("Chưa có phiếu vắng mặt hôm nay."),
        "requeue_front": _("Đầu hàng"),
        "requeue_back": _("Cuối hàng"),
        "requeue": _("Vào lại hàng"),
        "just_now": _("vừa lấy"),
        "minutes": _("{n} phút"),
        "hours": _("{h} giờ {m} phút"),
        "shown_of": _("Hiển thị {shown}/{total}"),
        "done_called": _("Đã gọi số {number}."),
        "done_recalled": _("Đã gọi lại số {number}."),
        "done_started": _("Bắt đầu phục vụ số {number}."),
        "done_finished": _("Đã hoàn thành số {number}."),
        "done_no_show": _("Số {number} được ghi vắng mặt."),
        "done_transferred": _("Đã chuyển số {number}."),
        "done_requeued": _("Số {number} đã vào lại hàng chờ."),
        "done_paused": _("Quầy đã tạm dừng."),
        "done_resumed": _("Quầy tiếp tục phục vụ."),
        "network": _("Không gửi được yêu cầu tới máy chủ. Vui lòng kiểm tra kết nối và thử lại."),
        "failed": _("Thao tác không thành công."),
        "lost_counter": _("Bạn không còn làm việc tại quầy này. Vui lòng chọn lại quầy."),
        "counter_closed": _("Quầy này đã ngừng hoạt động. Vui lòng chọn quầy khác."),
        "transfer_pick": _("Vui lòng chọn nơi chuyển đến."),
        # G while the current citizen was called but never started (engine: _end_current).
        "next_title": _("Số {number} chưa được bắt đầu phục vụ"),
        "next_no_show": _(
            "Gọi số tiếp theo sẽ ghi số {number} vắng mặt (có thể đưa vào lại hàng chờ sau)."
        ),
        "next_requeue": _("Gọi số tiếp theo sẽ đưa số {number} vào lại đầu hàng chờ."),
        "counter": _("Quầy {n}"),
        # Said when a shortcut is pressed whose button cannot apply now.
        "why_paused": error_text("counter_paused"),
        "why_no_ticket": error_text("counter_has_no_ticket"),
    }


def _me() -> Staff:
    staff = current_staff()
    if staff is None:  # staff_required ran first
        abort(401)
    return staff


def _site_for(session: Any, staff: Staff, code: str) -> Site:
    """The site of the URL: 404 when unknown, 403 when this person does not work there."""
    site = board.site_by_code(session, code)
    if site is None:
        abort(404)
    if not staff.works_for(site.id):
        abort(403)
    return site


def _refusal(err: QueueError) -> str:
    return error_text(err.code, err.params)


@bp.get("/")
@staff_required(*STAFF)
def home() -> Any:
    """The counter chooser; a staff member already signed in at a counter goes straight there."""
    staff = _me()
    code = request.args.get("site")
    with runtime().db.reads() as session:
        if not code:
            held = board.held_counter(session, staff.id)
            if held is not None:
                return redirect(url_for("counter.workstation", site=held.site_code, n=held.number))
            sites = board.sites_for(session, staff)
            if len(sites) != 1:
                return render_template("counter/sites.html", sites=sites, staff=staff)
            site = sites[0]
        else:
            site = _site_for(session, staff, code)
        cards = board.counter_cards(session, site)
        held = board.held_counter(session, staff.id)
        return render_template(
            "counter/choose.html",
            site=site,
            cards=cards,
            staff=staff,
            held=held,
            can_take_over=staff.role in MANAGERS,
        )


@bp.post("/<site>/<int:n>/sign-in")
@staff_required(*STAFF)
def sign_in(site: str, n: int) -> Response:
    """Work at this counter; a manager may take over one another clerk forgot to leave."""
    staff = _me()
    with runtime().db.reads() as session:
        _site_for(session, staff, site)
    take_over = request.form.get("take_over") == "1"
    if take_over and staff.role not in MANAGERS:
        flash(error_text("take_over_not_allowed"), "error")
        return redirect(url_for("counter.home", site=site))
    try:
        engine.sign_in(runtime().uow(), site, n, staff.id, take_over=take_over, actor=staff.actor)
    except QueueError as err:
        flash(_refusal(err), "error")
        return redirect(url_for("counter.home", site=site))
    return redirect(url_for("counter.workstation", site=site, n=n))


@bp.post("/<site>/<int:n>/sign-out")
@staff_required(*STAFF)
def sign_out(site: str, n: int) -> Response:
    """Leave the counter (Rời quầy): it is free for the next clerk; a manager frees any."""
    staff = _me()
    with runtime().db.reads() as session:
        site_row = _site_for(session, staff, site)
        counter = board.active_counter(session, site_row, n)
        if counter is None:
            abort(404)
        holder = counter.clerk_id
    if staff.role == "clerk" and holder != staff.id:
        abort(403)
    try:
        engine.release(runtime().uow(), site, n, actor=staff.actor)
    except QueueError as err:
        flash(_refusal(err), "error")
    else:
        flash(_("Đã rời quầy số %(n)d.", n=n), "info")
    return redirect(url_for("counter.home", site=site))


@bp.get("/<site>/<int:n>")
@staff_required(*STAFF)
def workstation(site: str, n: int) -> Any:
    """The workstation: a clerk only at the counter they hold; managers at any of their site."""
    staff = _me()
    rt = runtime()
    with rt.db.reads() as session:
        site_row = _site_for(session, staff, site)
        counter = board.active_counter(session, site_row, n)
        if counter is None:
            abort(404)
        if staff.role == "clerk" and counter.clerk_id != staff.id:
            if counter.clerk_id is not None:
                holder = board.clerk_name(session, counter.clerk_id)
                flash(error_text("counter_taken", {"counter": n, "clerk": holder}), "error")
            else:
                flash(error_text("counter_sign_in_required"), "error")
            return redirect(url_for("counter.home", site=site))
        now = rt.clock()
        queue = engine.counter_queue(session, site, n, now)
        services, counters = board.transfer_targets(session, site_row, n)
        mine = reports.clerk_today(session, site_row.id, staff.id, now=now)
        boot = {
            "site": {
                "code": site_row.code,
                "name": site_row.name,
                "timezone": site_row.timezone,
                "unstarted_on_next": site_row.unstarted_on_next,
            },
            "counter": {"number": n, "name": counter.name},
            "me": {"id": staff.id, "role": staff.role, "name": staff.full_name or staff.username},
            "now": now.isoformat(),
            "queue": queue,
            "services": services,
            "counters": counters,
            "priorities": {code: _(label) for code, label in PRIORITY_LABELS.items()},
            "csrf": generate_csrf(),
            "chooser": url_for("counter.home", site=site_row.code),
            "targets_url": url_for("counter.targets", site=site_row.code, n=n),
            "texts": texts(),
            "lang": str(get_locale() or "vi"),
            "live": live_boot(),
        }
        return render_template(
            "counter/workstation.html",
            boot=boot,
            site=site_row,
            counter=counter,
            staff=staff,
            mine=my_figures(mine),
        )


def my_figures(figures: dict[str, Any]) -> dict[str, str]:
    """The clerk's own figures of today (``server.reports.clerk_today``) as the page shows
    them; workstation.js writes the same from ``GET …/me/today`` after each event."""
    mean = figures["service_s"]["mean"]
    index = figures["ratings"]["satisfaction_index"]
    return {
        "served": str(figures["served"]),
        "service": "–" if mean is None else f"{mean / 60:.1f}",
        "satisfaction": "–" if index is None else f"{index * 100:.0f}%",
        "ratings": str(figures["ratings"]["count"]),
    }


@bp.get("/<site>/<int:n>/targets")
@staff_required(*STAFF)
def targets(site: str, n: int) -> Any:
    """Where this counter may send a ticket now: read again when the site's setup changes."""
    staff = _me()
    with runtime().db.reads() as session:
        site_row = _site_for(session, staff, site)
        if board.active_counter(session, site_row, n) is None:
            abort(404)
        services, counters = board.transfer_targets(session, site_row, n)
    response = jsonify(services=services, counters=counters)
    response.headers["Cache-Control"] = "no-store"
    return response
