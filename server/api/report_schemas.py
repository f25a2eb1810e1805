"""The reports' query string and answers, as the OpenAPI document describes them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..reports import FORMATS, GROUPS, MAX_DAYS

DAY = r"^\d{4}-\d{2}-\d{2}$"


class ReportQuery(BaseModel):
    """What ``?from=&to=&group=&format=`` may hold (checked by ``server.reports``)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(
        alias="from", pattern=DAY, description="Ngày đầu (YYYY-MM-DD, theo giờ của đơn vị)"
    )
    to: str = Field(pattern=DAY, description=f"Ngày cuối, tính cả ngày này; tối đa {MAX_DAYS} ngày")
    group: str = Field(
        default="service",
        json_schema_extra={"enum": list(GROUPS)},
        description="Nhóm theo: lĩnh vực, quầy, cán bộ, giờ trong ngày, ngày, đơn vị",
    )
    format: str = Field(
        default="json", json_schema_extra={"enum": list(FORMATS)}, description="json, csv, xlsx"
    )


class SitesReportQuery(ReportQuery):
    sites: str | None = Field(
        default=None,
        description="Mã các đơn vị, cách nhau bởi dấu phẩy; bỏ trống: mọi đơn vị được xem",
    )


class StatsOut(BaseModel):
    count: int
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None


class WaitBarOut(BaseModel):
    from_min: int
    to_min: int | None
    count: int


class RatingsOut(BaseModel):
    count: int
    by_level: dict[str, int]
    rated_share: float | None
    satisfied_share: float | None
    satisfaction_index: float | None
    reasons: dict[str, int]


class FiguresOut(BaseModel):
    """The figures of one row or of the total (docs/reports.md defines each)."""

    issued: int
    served: int
    no_show: int
    no_show_auto: int
    cancelled: int
    transferred_in: int
    transferred_out: int
    recalls: int
    requeued: int
    left_waiting: int
    left_at_counter: int
    over_target: int
    over_target_share: float | None
    by_channel: dict[str, int]
    by_priority: dict[str, int]
    wait_s: StatsOut
    first_wait_s: StatsOut
    walk_s: StatsOut
    service_s: StatsOut
    wait_distribution: list[WaitBarOut]
    signed_in_s: float | None
    serving_s: float
    serving_share: float | None
    ratings: RatingsOut


class ReportRowOut(FiguresOut):
    key: str | None = Field(
        description="Mã lĩnh vực, số quầy, tên đăng nhập, giờ “08”, ngày “2026-12-03”, mã đơn vị"
    )
    label: str


class ReportOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    site: str
    sites: list[str]
    from_: str = Field(alias="from")
    to: str
    group: str
    timezone: str | None
    wait_target_min: int | list[int]
    generated_at: str
    groups: list[ReportRowOut]
    total: FiguresOut


class ClerkTodayOut(FiguresOut):
    site: str
    day: str
    clerk: str | None
    label: str | None
