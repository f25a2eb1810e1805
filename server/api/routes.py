"""REST views: parse input, call the engine, shape the answer. Nothing more."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, g, jsonify, request
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException

from .. import engine
from ..db import retried_with_key
from ..engine.errors import not_found
from ..engine.tracking import renew_tracking_token as renew_tracking
from ..engine.views import site_by_code, site_state, ticket_with_wait
from ..models import Ticket
from ..realtime.phone import let_go
from ..runtime import runtime
from . import bp
from .auth import CALLERS, ISSUERS, RATERS, READERS, forbid_other_counters_ticket, requires
from .openapi import OPERATIONS, Operation, build_spec
from .problems import ApiProblem, answer_with_problems, from_http_error
from .schemas import (
    DB_INT_MAX,
    CallIn,
    CounterQueueOut,
    CounterStateOut,
    EmptyIn,
    FinishIn,
    IssueTicketIn,
    RatingIn,
    RatingOut,
    RequeueIn,
    ServicesOut,
    SignInIn,
    StateOut,
    TicketOut,
    TicketRefIn,
    TrackingOut,
    TransferIn,
)

answer_with_problems(bp)

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


def endpoint(
    method: str,
    path: str,
    summary: str,
    roles: tuple[str, ...],
    *,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    problems: tuple[int, ...] = (),
    headers: dict[str, str] | None = None,
    any_counter: bool = False,
    staff_page: bool = False,
    any_site: bool = False,
    query: type[BaseModel] | None = None,
    files: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Declare a view once: its route, who may call it, and its OpenAPI entry.

    ``any_site``: a route about no one site (a staff session is not tied to one there).
    ``query``: a model whose fields describe the query string; ``files``: other media
    types of the answer.
    """

    def decorate(view: F) -> F:
        OPERATIONS.append(
            Operation(
                method,
                path,
                summary,
                roles,
                body,
                response,
                status,
                problems,
                headers or {},
                operation_id=view.__name__,
                staff_page=staff_page,
                query=query,
                files=files,
            )
        )
        guarded = requires(
            *roles, any_counter=any_counter, staff_page=staff_page, any_site=any_site
        )(view)
        if "Idempotency-Key" in (headers or {}):
            retried_with_key(guarded)
        bp.add_url_rule(path, view.__name__, guarded, methods=[method])
        return view

    return decorate


def parse(model: type[M]) -> M:
    """Validate the JSON body; an empty body means every field takes its default."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: Any = {}
    else:
        if not request.is_json:
            raise ApiProblem(415, "unsupported_media_type")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested input
            raise ApiProblem(400, "invalid_json") from None
    return model.model_validate(data)


def actor() -> str:
    return str(g.principal.actor)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException) -> Response:
    return from_http_error(err)


# A URL that matches no route has no blueprint yet: server.errors answers it
# (problem+json under /api/, a Vietnamese page elsewhere).


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec(bp.url_prefix or ""))


# Path ids: Werkzeug's int converter takes no sign, and anything above the
# database's integer range does not match (404) instead of failing the query.
ID = f"int(max={DB_INT_MAX})"

# --- services, tickets, state ------------------------------------------------


@endpoint(
    "GET",
    "/sites/<site>/services",
    "Lĩnh vực: trạng thái, số người chờ, thời gian chờ dự kiến",
    READERS,
    response=ServicesOut,
    problems=(404,),
)
def list_services(site: str) -> Response:
    rt = runtime()
    with rt.db.reads() as session:
        site_row = site_by_code(session, site)
        services = engine.services_overview(session, site_row, rt.clock())
    return jsonify({"services": services})


@endpoint(
    "POST",
    "/sites/<site>/tickets",
    "Lấy số thứ tự",
    ISSUERS,
    body=IssueTicketIn,
    response=TicketOut,
    status=201,
    problems=(404, 409),
    headers={"Idempotency-Key": "Cùng khóa trả lại cùng một phiếu (chạm hai lần, gửi lại)"},
)
def issue_ticket(site: str) -> tuple[Response, int]:
    data = parse(IssueTicketIn)
    channel = "kiosk" if g.principal.role == "kiosk" else "api"
    issued = engine.issue_ticket(
        runtime().uow(),
        site,
        data.service,
        priority=data.priority,
        channel=channel,
        idempotency_key=request.headers.get("Idempotency-Key"),
        actor=actor(),
    )
    response = jsonify(issued.ticket)
    response.headers["Location"] = f"{bp.url_prefix}/tickets/{issued.ticket['id']}"
    if issued.replayed:
        response.headers["Idempotent-Replayed"] = "true"
        return response, 200
    return response, 201


@endpoint(
    "GET",
    f"/tickets/<{ID}:ticket_id>",
    "Một phiếu, với vị trí và thời gian chờ dự kiến",
    READERS,
    response=TicketOut,
    problems=(404,),
)
def get_ticket(ticket_id: int) -> Response:
    rt = runtime()
    with rt.db.reads() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or ticket.site_id != g.principal.site_id:
            raise not_found("ticket_not_found", ticket=ticket_id)
        site = site_by_code(session, g.principal.site_code)
        return jsonify(ticket_with_wait(session, site, ticket, rt.clock()))


@endpoint(
    "GET",
    "/sites/<site>/state",
    "Ảnh chụp trạng thái cho màn hình hiển thị",
    READERS,
    response=StateOut,
    problems=(404,),
)
def state(site: str) -> Response:
    rt = runtime()
    with rt.db.reads() as session:
        return jsonify(site_state(session, site, rt.clock()))


@endpoint(
    "POST",
    f"/sites/<site>/tickets/<{ID}:ticket_id>/requeue",
    "Đưa phiếu vắng mặt trở lại hàng chờ (đầu hoặc cuối)",
    CALLERS,
    body=RequeueIn,
    response=TicketOut,
    problems=(404, 409),
)
def requeue(site: str, ticket_id: int) -> Response:
    data = parse(RequeueIn)
    return jsonify(
        engine.requeue(runtime().uow(), site, ticket_id, position=data.position, actor=actor())
    )


@endpoint(
    "POST",
    f"/sites/<site>/tickets/<{ID}:ticket_id>/cancel",
    "Hủy phiếu",
    CALLERS,
    body=EmptyIn,
    response=TicketOut,
    problems=(404, 409),
)
def cancel(site: str, ticket_id: int) -> Response:
    parse(EmptyIn)
    forbid_other_counters_ticket(ticket_id)
    return jsonify(engine.cancel(runtime().uow(), site, ticket_id, actor=actor()))


@endpoint(
    "POST",
    f"/sites/<site>/tickets/<{ID}:ticket_id>/tracking-token",
    "Đổi mã theo dõi của phiếu (phiếu bị mất): mã QR cũ không còn mở được trang theo dõi",
    CALLERS,
    body=EmptyIn,
    response=TrackingOut,
    problems=(404,),
)
def renew_tracking_token(site: str, ticket_id: int) -> Response:
    parse(EmptyIn)
    forbid_other_counters_ticket(ticket_id)
    renewed = renew_tracking(runtime().uow(), site, ticket_id, actor=actor())
    let_go(ticket_id)
    return jsonify(renewed)


# --- counters --------------------------------------------------------------------

COUNTER = f"/sites/<site>/counters/<{ID}:n>"


CALL_KEY = {
    "Idempotency-Key": "Một khóa cho mỗi lần bấm gọi; gửi lại cùng khóa (mất kết nối) trả lại "
    "đúng lần gọi đó, không gọi thêm số nào và không kết thúc số vừa gọi"
}


def _called(called: engine.Called) -> Response:
    response = jsonify(called)
    if called.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@endpoint(
    "POST",
    COUNTER + "/call-next",
    "Gọi số tiếp theo",
    CALLERS,
    body=EmptyIn,
    response=TicketOut,
    problems=(404, 409),
    headers=CALL_KEY,
)
def call_next(site: str, n: int) -> Response:
    parse(EmptyIn)
    key = request.headers.get("Idempotency-Key")
    return _called(engine.call_next(runtime().uow(), site, n, idempotency_key=key, actor=actor()))


@endpoint(
    "POST",
    COUNTER + "/call",
    "Gọi một số cụ thể",
    CALLERS,
    body=CallIn,
    response=TicketOut,
    problems=(404, 409),
    headers=CALL_KEY,
)
def call(site: str, n: int) -> Response:
    data = parse(CallIn)
    key = request.headers.get("Idempotency-Key")
    return _called(
        engine.call_ticket(
            runtime().uow(), site, n, data.ticket_id, idempotency_key=key, actor=actor()
        )
    )


@endpoint(
    "POST",
    COUNTER + "/recall",
    "Gọi lại số đang gọi",
    CALLERS,
    body=TicketRefIn,
    response=TicketOut,
    problems=(404, 409),
)
def recall(site: str, n: int) -> Response:
    data = parse(TicketRefIn)
    return jsonify(engine.recall(runtime().uow(), site, n, data.ticket_id, actor=actor()))


@endpoint(
    "POST",
    COUNTER + "/start",
    "Bắt đầu phục vụ",
    CALLERS,
    body=TicketRefIn,
    response=TicketOut,
    problems=(404, 409),
)
def start(site: str, n: int) -> Response:
    data = parse(TicketRefIn)
    return jsonify(engine.start(runtime().uow(), site, n, data.ticket_id, actor=actor()))


@endpoint(
    "POST",
    COUNTER + "/finish",
    "Hoàn thành (kèm mã hồ sơ nếu có)",
    CALLERS,
    body=FinishIn,
    response=TicketOut,
    problems=(404, 409),
)
def finish(site: str, n: int) -> Response:
    data = parse(FinishIn)
    return jsonify(
        engine.finish(
            runtime().uow(), site, n, data.ticket_id, dossier_code=data.dossier_code, actor=actor()
        )
    )


@endpoint(
    "POST",
    COUNTER + "/no-show",
    "Công dân vắng mặt",
    CALLERS,
    body=TicketRefIn,
    response=TicketOut,
    problems=(404, 409),
)
def no_show(site: str, n: int) -> Response:
    data = parse(TicketRefIn)
    return jsonify(engine.no_show(runtime().uow(), site, n, data.ticket_id, actor=actor()))


@endpoint(
    "POST",
    COUNTER + "/transfer",
    "Chuyển phiếu sang lĩnh vực hoặc quầy khác, giữ nguyên số",
    CALLERS,
    body=TransferIn,
    response=TicketOut,
    problems=(404, 409),
)
def transfer(site: str, n: int) -> Response:
    data = parse(TransferIn)
    return jsonify(
        engine.transfer(
            runtime().uow(),
            site,
            data.ticket_id,
            from_counter=n,
            to_service=data.to_service,
            to_counter=data.to_counter,
            position=data.position,
            actor=actor(),
        )
    )


@endpoint(
    "POST",
    COUNTER + "/pause",
    "Tạm dừng phục vụ",
    CALLERS,
    body=EmptyIn,
    response=CounterStateOut,
    problems=(404, 409),
)
def pause(site: str, n: int) -> Response:
    parse(EmptyIn)
    return jsonify({"counter": engine.pause(runtime().uow(), site, n, actor=actor())})


@endpoint(
    "POST",
    COUNTER + "/resume",
    "Tiếp tục phục vụ",
    CALLERS,
    body=EmptyIn,
    response=CounterStateOut,
    problems=(404, 409),
)
def resume(site: str, n: int) -> Response:
    parse(EmptyIn)
    return jsonify({"counter": engine.resume(runtime().uow(), site, n, actor=actor())})


@endpoint(
    "GET",
    COUNTER + "/queue",
    "Hàng chờ của quầy theo thứ tự sẽ gọi, và các phiếu vắng mặt hôm nay",
    CALLERS,
    response=CounterQueueOut,
    problems=(404,),
)
def counter_queue(site: str, n: int) -> Response:
    rt = runtime()
    with rt.db.reads() as session:
        return jsonify(engine.counter_queue(session, site, n, rt.clock()))


@endpoint(
    "POST",
    COUNTER + "/sign-in",
    "Cán bộ (đăng nhập trên trang quầy) nhận làm việc tại quầy; mỗi quầy một cán bộ",
    CALLERS,
    body=SignInIn,
    response=CounterStateOut,
    problems=(404, 409),
    any_counter=True,
    staff_page=True,  # a keypad's token acts for whoever signed in at its counter
)
def sign_in(site: str, n: int) -> Response:
    data = parse(SignInIn)
    principal = g.principal
    if data.take_over and principal.role == "clerk":
        raise ApiProblem(403, "take_over_not_allowed")
    counter = engine.sign_in(
        runtime().uow(), site, n, int(principal.user_id), take_over=data.take_over, actor=actor()
    )
    return jsonify({"counter": counter})


@endpoint(
    "POST",
    COUNTER + "/sign-out",
    "Rời quầy (cán bộ rời quầy của mình; quản lý giải phóng quầy)",
    CALLERS,
    body=EmptyIn,
    response=CounterStateOut,
    problems=(404,),
)
def sign_out(site: str, n: int) -> Response:
    parse(EmptyIn)
    return jsonify({"counter": engine.release(runtime().uow(), site, n, actor=actor())})


@endpoint(
    "POST",
    COUNTER + "/rating",
    "Công dân đánh giá phiếu vừa giải quyết xong tại quầy (máy đánh giá của quầy)",
    RATERS,
    body=RatingIn,
    response=RatingOut,
    status=201,
    problems=(404, 409),
)
def rate(site: str, n: int) -> tuple[Response, int]:
    if g.principal.counter != n:  # a tablet rates at its own counter only
        raise ApiProblem(403, "forbidden")
    data = parse(RatingIn)
    rating = engine.rate_ticket(
        runtime().uow(),
        site,
        n,
        data.ticket_id,
        data.score,
        reasons=data.reasons,
        device_id=g.principal.token_id,
        actor=actor(),
    )
    return jsonify(rating), 201
