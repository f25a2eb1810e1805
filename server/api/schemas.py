"""Request and response bodies of the REST API (validated with pydantic, described in OpenAPI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..engine.ratings import REASONS
from ..engine.rules import PRIORITY_REASONS

PriorityReason = Literal[PRIORITY_REASONS]  # type: ignore[valid-type]
Position = Literal["front", "back"]

# Ids and counter numbers are 32-bit integer columns: a larger number is refused
# here instead of failing in the database driver.
DB_INT_MAX = 2**31 - 1
# Codes are compared with database columns; control characters (NUL breaks
# PostgreSQL text parameters) can never be part of one.
CODE_PATTERN = r"^[^\x00-\x1f\x7f]+$"


class Body(BaseModel):
    """A request body: unknown fields and wrong JSON types are refused, not coerced."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class IssueTicketIn(Body):
    service: str = Field(
        min_length=1, max_length=40, pattern=CODE_PATTERN, description="Mã lĩnh vực"
    )
    priority: PriorityReason | None = Field(default=None, description="Đối tượng ưu tiên")


class CheckInIn(Body):
    """A number from home arriving at the kiosk: its tracking token (the QR code) or code."""

    tracking_token: str | None = Field(
        default=None, min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"
    )
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class TicketRefIn(Body):
    """Counter actions apply to the counter's current ticket unless one is named."""

    ticket_id: int | None = Field(default=None, ge=1, le=DB_INT_MAX)


class CallIn(Body):
    ticket_id: int = Field(ge=1, le=DB_INT_MAX)


class FinishIn(TicketRefIn):
    dossier_code: str | None = Field(default=None, min_length=1, max_length=64)


class TransferIn(TicketRefIn):
    to_service: str | None = Field(default=None, min_length=1, max_length=40, pattern=CODE_PATTERN)
    to_counter: int | None = Field(default=None, ge=1, le=DB_INT_MAX)
    position: Position = "back"


class RequeueIn(Body):
    position: Position = "back"


class EmptyIn(Body):
    """Actions that take no parameters: an empty body, or ``{}``."""


RatingReason = Literal[REASONS]  # type: ignore[valid-type]


class RatingIn(Body):
    """The citizen's rating of the ticket the counter has just finished (rating tablet)."""

    ticket_id: int = Field(ge=1, le=DB_INT_MAX)
    score: int = Field(
        ge=1, le=5, description="1 = chưa hài lòng … thang của đơn vị = rất hài lòng"
    )
    reasons: list[RatingReason] = Field(
        default_factory=list, max_length=len(REASONS), description="Lý do, khi chưa hài lòng"
    )


class RatingOut(BaseModel):
    id: int
    ticket_id: int
    ticket_number: str
    counter: int
    score: int
    scale: int
    reasons: list[str]
    created_at: str | None


class TicketOut(BaseModel):
    id: int
    number: str = Field(description="Số thứ tự như in trên phiếu")
    service: str
    service_name: str
    status: Literal["waiting", "called", "serving", "done", "no_show", "cancelled", "remote"]
    priority: str | None
    channel: str
    business_day: str
    issued_at: str
    called_at: str | None
    started_at: str | None
    finished_at: str | None
    counter: int | None
    target_counter: int | None
    recall_count: int
    dossier_code: str | None
    position: int | None = Field(description="1 = được gọi tiếp theo")
    people_ahead: int | None
    estimated_wait_s: int | None = Field(
        description="null khi không chờ, hoặc khi chưa có quầy nào đang gọi lĩnh vực của phiếu"
    )
    tracking_token: str | None = Field(default=None, description="Chỉ trả về khi lấy số")


class TrackingOut(BaseModel):
    id: int
    number: str
    tracking_token: str = Field(description="Mã theo dõi mới: mã QR cũ không còn hiệu lực")


class ServiceOut(BaseModel):
    code: str
    name: str
    hint: str
    state: Literal["open", "closed", "unserved", "full", "inactive"] = Field(
        description="unserved: không quầy nào (đang hoạt động) phục vụ lĩnh vực này"
    )
    open: bool
    waiting: int
    issued_today: int
    daily_cap: int | None
    staffed_counters: int = Field(
        description="Số quầy đang gọi lĩnh vực này: không tạm dừng, có cán bộ đăng nhập"
    )
    estimated_wait_s: int | None = Field(
        description="null khi chưa có quầy nào đang gọi lĩnh vực này (staffed_counters = 0)"
    )


class ServicesOut(BaseModel):
    services: list[ServiceOut]


class SignInIn(Body):
    take_over: bool = Field(
        default=False, description="Quản lý nhận thay quầy đang do cán bộ khác giữ"
    )


class ClerkOut(BaseModel):
    id: int
    name: str
    photo_url: str | None


class CounterOut(BaseModel):
    number: int
    name: str
    status: Literal["open", "paused"]
    active: bool
    current: dict[str, object] | None
    clerk: ClerkOut | None = Field(description="Cán bộ đang làm việc tại quầy")
    services: list[str] | None = Field(
        default=None, description="Mã các lĩnh vực quầy phục vụ (trong ảnh chụp trạng thái)"
    )


class CounterQueueOut(BaseModel):
    counter: CounterOut
    services: list[str] = Field(description="Mã các lĩnh vực quầy phục vụ")
    waiting: list[dict[str, object]] = Field(description="Phiếu đang chờ, theo thứ tự quầy sẽ gọi")
    waiting_total: int
    no_show: list[dict[str, object]] = Field(description="Phiếu vắng mặt hôm nay, mới nhất trước")


class CounterStateOut(BaseModel):
    counter: CounterOut


class StateOut(BaseModel):
    site: dict[str, object]
    seq: int
    business_day: str
    now: str
    services: list[ServiceOut]
    counters: list[CounterOut]
    recent_calls: list[dict[str, object]]


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    code: str = Field(description="Mã lỗi ổn định")
    detail: str = Field(description="Thông báo bằng tiếng Việt")
    errors: list[dict[str, object]] | None = None
