"""What a request that goes wrong is answered, on every page and API of the app.

- Text the database cannot store (a NUL byte, which PostgreSQL refuses in
  text, or a lone surrogate from JSON ``"\\ud800"``, which no encoder takes) is
  refused at the door, in the path, the query string, form fields, JSON bodies
  and headers, before any view runs: 400.
- Errors are Vietnamese pages with a way back for browsers, and
  application/problem+json for the APIs (and for clients that ask for JSON).
- A database that cannot store anything (read-only, full disk, server gone)
  answers 503 with what is wrong (``server.storage``), not a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from .api.problems import from_http_error, problem
from .storage import StorageWatch, reason_text, storage_fault

RETRY_AFTER_S = 60
# What in a JSON body's bytes can decode to a NUL or a lone surrogate: the escapes
# \u0000 and \ud800-\udfff, and surrogates encoded as bytes (``json.loads`` passes them).
# A body with none of them (and no NUL byte: UTF-16 or -32) holds no bad text.
MAYBE_BAD_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")


def bad_text(value: str) -> bool:
    """Whether a string holds a NUL or a lone surrogate (text no database column stores)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_json(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return bad_text(value)
    if depth > 64:  # absurd nesting: the view refuses it (invalid_json)
        return False
    if isinstance(value, dict):
        return any(bad_text(k) or _bad_json(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_json(v, depth + 1) for v in value)
    return False


def request_has_bad_text() -> bool:
    """Whether any part of this request a view may read holds text no column can store."""
    if bad_text(request.path):
        return True
    for name, value in request.headers.items():
        if "\x00" in name or "\x00" in value:
            return True
    request.get_data(cache=True)  # kept: the form is parsed from it, and views read it again
    for multi in (request.args, request.form):
        for key, values in multi.lists():
            if bad_text(key) or any(bad_text(v) for v in values):
                return True
    if request.is_json:
        raw = request.get_data(cache=True)
        if b"\x00" not in raw and not MAYBE_BAD_JSON.search(raw):
            return False  # not parsed here: a hub's batch of 5,000 rows is parsed once
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return False  # the view answers invalid_json
        return _bad_json(data)
    return False


def wants_problem() -> bool:
    """APIs answer problem+json: /api/…, a blueprint's /…/api/…, or a client asking for JSON."""
    path = request.path
    if path.startswith("/api/") or "/api/" in path:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


# Vietnamese title and sentence of each error page (the message ids are the text itself).
def _page_text(status: int) -> tuple[str, str]:
    texts = {
        400: (_("Yêu cầu không hợp lệ"), _("Địa chỉ hoặc dữ liệu gửi lên không đúng.")),
        401: (_("Cần đăng nhập"), _("Vui lòng đăng nhập để xem trang này.")),
        403: (
            _("Không có quyền truy cập"),
            _("Tài khoản hoặc thiết bị này không được dùng trang này."),
        ),
        404: (
            _("Không tìm thấy trang"),
            _("Địa chỉ này không có trên hệ thống, hoặc đã bị xóa."),
        ),
        405: (_("Yêu cầu không hợp lệ"), _("Trang này không nhận kiểu yêu cầu này.")),
        413: (_("Dữ liệu quá lớn"), _("Nội dung gửi lên vượt quá giới hạn cho phép.")),
        500: (
            _("Hệ thống gặp lỗi"),
            _("Đã có lỗi ngoài ý muốn. Vui lòng thử lại; nếu vẫn lỗi, hãy báo quản trị viên."),
        ),
    }
    default = (_("Có lỗi xảy ra"), _("Không thực hiện được yêu cầu này."))
    return texts.get(status, default if status < 500 else texts[500])


def error_page(status: int, *, title: str | None = None, message: str | None = None) -> Response:
    page_title, page_message = _page_text(status)
    back = request.referrer
    if not back or not back.startswith(request.host_url) or back == request.url:
        back = None
    body = render_template(
        "error.html",
        status=status,
        title=title or page_title,
        message=message or page_message,
        back=back,
        retry=request.url if request.method == "GET" and status >= 500 else None,
        login=status in (401, 403),
    )
    return Response(body, status=status, mimetype="text/html")


def invalid_text_answer() -> Response:
    if wants_problem():
        return problem(400, "invalid_text")
    return error_page(
        400, message=_("Dữ liệu gửi lên có ký tự không hợp lệ (ký tự NUL hoặc lỗi mã hóa).")
    )


def init_errors(app: Flask, watch: StorageWatch) -> None:
    """The door check on text, and every error answered in Vietnamese (page or problem+json)."""

    @app.before_request
    def _refuse_bad_text() -> Response | None:
        return invalid_text_answer() if request_has_bad_text() else None

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        if err.code is None or err.code < 400:  # a routing redirect, say
            return err
        if wants_problem():
            return from_http_error(err)
        return error_page(err.code)

    @app.errorhandler(InternalServerError)
    def _server_error(err: InternalServerError) -> Response:
        if wants_problem():
            return from_http_error(err)
        return error_page(500)

    @app.errorhandler(DBAPIError)
    def _storage_error(err: DBAPIError) -> Response:
        kind = storage_fault(err)
        if kind is None:
            raise err  # not a storage fault: the usual 500, with its traceback in the log
        watch.record(kind, err)
        return storage_answer(kind)


def storage_answer(kind: str) -> Response:
    """503: the database cannot store anything now; the same request can work later."""
    reason = reason_text(kind)
    if wants_problem():
        response = problem(503, "storage_unavailable", {"reason": reason})
        body = response.get_json()
        body["reason"] = kind
        response.set_data(json.dumps(body, ensure_ascii=False))
    else:
        response = error_page(
            503,
            title=_("Hệ thống tạm thời không lưu được dữ liệu"),
            message=_(
                "Nguyên nhân: %(reason)s. Vui lòng báo quản trị viên; thử lại sau ít phút.",
                reason=_(reason),
            ),
        )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response
