"""Reports as files: CSV (UTF-8 with BOM, so Excel shows Vietnamese) and XLSX (openpyxl).

Durations are in minutes in both (seconds in the JSON); numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..engine.ratings import REASONS
from ..engine.rules import CHANNELS, PRIORITY_REASONS
from ..messages import PRIORITY_LABELS, RATING_REASONS
from ..timeutil import utcnow
from .figures import DayRollup, Scope, shape
from .rollups import day_rollups
from .ticket_list import ticket_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .period import Period
    from .rollups import Store

Getter = Callable[[dict[str, Any]], Any]

SHEET_TITLES = {
    "service": "Theo lĩnh vực",
    "counter": "Theo quầy",
    "clerk": "Theo cán bộ",
    "hour": "Theo giờ",
    "day": "Theo ngày",
    "site": "Theo đơn vị",
}
TICKETS_TITLE = "Danh sách phiếu"
TOTAL_LABEL = "Tổng cộng"
CHANNEL_LABELS = {
    "kiosk": "Máy lấy số",
    "online": "Trực tuyến",
    "api": "Hệ thống khác",
    "remote": "Lấy số từ xa",
}
STATUS_LABELS = {
    "waiting": "Đang chờ",
    "called": "Đã gọi",
    "serving": "Đang phục vụ",
    "done": "Đã phục vụ",
    "no_show": "Vắng mặt",
    "cancelled": "Đã hủy",
    "remote": "Chưa đến (số từ xa)",
}
STAT_LABELS = (("mean", "TB"), ("median", "trung vị"), ("p90", "P90"), ("max", "tối đa"))


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes, two decimals (None stays None)."""
    return None if seconds is None else round(seconds / 60, 2)


def _count(name: str) -> Getter:
    return lambda f: f[name]


def _stat(figure: str, stat: str) -> Getter:
    return lambda f: minutes(f[figure][stat])


def _nested(*path: str) -> Getter:
    def get(f: dict[str, Any]) -> Any:
        value: Any = f
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        return value

    return get


def columns(report: dict[str, Any]) -> list[tuple[str, Getter]]:
    """The columns of a report's table: Vietnamese header, then how to read the figure."""
    target = report.get("wait_target_min")
    target_text = f"{target} phút" if isinstance(target, int) else "mục tiêu"
    cols: list[tuple[str, Getter]] = [
        ("Số phiếu", _count("issued")),
        ("Đã phục vụ", _count("served")),
        ("Vắng mặt", _count("no_show")),
        ("Vắng mặt (tự động)", _count("no_show_auto")),
        ("Đã hủy", _count("cancelled")),
        ("Chuyển đến", _count("transferred_in")),
        ("Chuyển đi", _count("transferred_out")),
        ("Gọi lại", _count("recalls")),
        ("Đưa lại hàng chờ", _count("requeued")),
        ("Còn chờ cuối ngày", _count("left_waiting")),
        ("Còn ở quầy cuối ngày", _count("left_at_counter")),
    ]
    for figure, title in (
        ("wait_s", "Thời gian chờ"),
        ("first_wait_s", "Chờ lần đầu"),
        ("walk_s", "Đến quầy"),
        ("service_s", "Thời gian phục vụ"),
    ):
        for stat, label in STAT_LABELS:
            cols.append((f"{title} {label} (phút)", _stat(figure, stat)))
    cols += [
        (f"Chờ quá {target_text}", _count("over_target")),
        (f"Tỉ lệ chờ quá {target_text}", _count("over_target_share")),
        ("Thời gian làm việc tại quầy (phút)", lambda f: minutes(f["signed_in_s"])),
        ("Thời gian có phiếu tại quầy (phút)", lambda f: minutes(f["serving_s"])),
        ("Lượt đánh giá", _nested("ratings", "count")),
    ]
    levels = report["total"]["ratings"]["by_level"]
    for level in levels:
        cols.append((f"Đánh giá mức {level}", _nested("ratings", "by_level", level)))
    cols += [
        ("Tỉ lệ được đánh giá", _nested("ratings", "rated_share")),
        ("Tỉ lệ hài lòng trở lên", _nested("ratings", "satisfied_share")),
        ("Chỉ số hài lòng", _nested("ratings", "satisfaction_index")),
    ]
    for reason in REASONS:
        cols.append((f"Lý do: {RATING_REASONS[reason]}", _nested("ratings", "reasons", reason)))
    for channel in CHANNELS:
        label = CHANNEL_LABELS.get(channel, channel)
        cols.append((f"Kênh: {label}", _nested("by_channel", channel)))
    for reason in (*PRIORITY_REASONS, "none"):
        label = PRIORITY_LABELS.get(reason, "Không ưu tiên")
        cols.append((f"Ưu tiên: {label}", _nested("by_priority", reason)))
    return cols


def table(report: dict[str, Any]) -> list[list[Any]]:
    """The report as rows of cells: a header, one row per group, then the total."""
    cols = columns(report)
    rows: list[list[Any]] = [["Mã", "Tên", *(header for header, _ in cols)]]
    for group in report["groups"]:
        rows.append([group["key"], group["label"], *(get(group) for _, get in cols)])
    rows.append(["", TOTAL_LABEL, *(get(report["total"]) for _, get in cols)])
    return rows


def report_csv(report: dict[str, Any]) -> bytes:
    """One grouping as CSV: UTF-8 with a BOM, comma-separated, a header row, the total last."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in table(report):
        writer.writerow(["" if cell is None else cell for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


TICKET_COLUMNS: tuple[tuple[str, Getter], ...] = (
    ("Đơn vị", _count("site")),  # only with several sites
    ("Số thứ tự", _count("number")),
    ("Lĩnh vực lấy số", _count("issued_service")),
    ("Lĩnh vực cuối", _count("service")),
    ("Kênh", lambda t: CHANNEL_LABELS.get(t["channel"], t["channel"])),
    # No priority: an empty cell (None: openpyxl writes nothing for it at all).
    ("Ưu tiên", lambda t: PRIORITY_LABELS.get(t["priority"]) if t["priority"] else None),
    ("Trạng thái", lambda t: STATUS_LABELS.get(t["status"], t["status"])),
    ("Giờ lấy số", _count("issued_at")),
    ("Giờ gọi lần đầu", _count("first_called_at")),
    ("Quầy", _count("counter")),
    ("Cán bộ", _count("clerk")),
    ("Chờ lần đầu (phút)", lambda t: minutes(t["first_wait_s"])),
    ("Thời gian phục vụ (phút)", lambda t: minutes(t["service_s"])),
    ("Gọi lại", _count("recalls")),
    ("Chuyển", _count("transfers")),
    ("Đưa lại hàng chờ", _count("requeues")),
    ("Vắng mặt", _count("no_shows")),
    ("Đánh giá", _count("rating")),
)


def ticket_table(tickets: Sequence[dict[str, Any]], *, several_sites: bool) -> list[list[Any]]:
    """The ticket list; its day is in "Giờ lấy số" (a date and time)."""
    columns = TICKET_COLUMNS if several_sites else TICKET_COLUMNS[1:]
    rows: list[list[Any]] = [[header for header, _ in columns]]
    for ticket in tickets:
        rows.append([get(ticket) for _, get in columns])
    return rows


def report_xlsx(
    session: Session,
    site_ids: Sequence[int],
    period: Period,
    *,
    now: datetime | None = None,
    first: str = "service",
    store: Store | None = None,
) -> bytes:
    """The workbook: one sheet per grouping (``first`` leading), then the ticket list.

    The groupings come from the daily rollups; the ticket list is streamed from one
    query straight into the sheet (``ticket_list.ticket_rows``), row by row as tuples.
    """

    now = now or utcnow()
    scope, days = day_rollups(session, site_ids, period, now, store)
    several = len(scope.sites) > 1
    tickets = ticket_rows(session, scope.sites, scope.names, period, now, several_sites=several)
    return xlsx_of(scope, days, first, tickets)


def xlsx_of(
    scope: Scope, days: dict[Any, DayRollup], first: str, tickets: Iterable[Sequence[Any]]
) -> bytes:
    """The workbook of summed days and the rows of the ticket list (``report_xlsx``; the
    hub gives the days and tickets of the sites it received, ``server.hub.reports``)."""
    several = len(scope.sites) > 1
    groups = [g for g in SHEET_TITLES if g != "site" or several]
    if first in groups:
        groups.remove(first)
        groups.insert(0, first)
    sheets: list[tuple[str, Sequence[Any], Iterable[Sequence[Any]]]] = []
    for g in groups:
        rows = table(shape(scope, days, g))
        sheets.append((SHEET_TITLES[g], rows[0], rows[1:]))
    columns = TICKET_COLUMNS if several else TICKET_COLUMNS[1:]
    sheets.append((TICKETS_TITLE, [header for header, _ in columns], tickets))
    return workbook(sheets)


def workbook(sheets: Sequence[tuple[str, Sequence[Any], Iterable[Sequence[Any]]]]) -> bytes:
    """Sheets (title, header, rows) as an XLSX file in openpyxl's write-only mode: each row
    goes to the file as it comes; only the header is styled (bold, frozen)."""
    # Here, not at the top: openpyxl (and lxml) load only when a report is exported.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.freeze_panes = "C2" if title != TICKETS_TITLE else "A2"
        cells = []
        for text in header:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
