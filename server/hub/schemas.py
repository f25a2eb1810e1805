"""The hub's request and answer bodies, for the OpenAPI document (the checks are in
``server.hub.receive``: every field, the batch whole)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class HubJoinIn(BaseModel):
    code: str = Field(max_length=40, description="Mã tham gia do `xephang hub code` in ra")
    managed: Literal["local", "hub"] = "local"


class HubJoinOut(BaseModel):
    site: str
    name: str
    credential: str
    last_seq: int
    managed: Literal["local", "hub"]


class HubEntryIn(BaseModel):
    seq: int = Field(ge=1)
    kind: Literal["row", "delete"]
    table: str
    at: str = Field(description="Thời điểm commit, ISO 8601 có múi giờ")
    data: dict[str, Any]


class HubSyncIn(BaseModel):
    site: str
    site_id: int = Field(ge=1, description="Mã số của đơn vị trong cơ sở dữ liệu của chính nó")
    site_last_seq: int = Field(default=0, ge=0)
    entries: list[HubEntryIn] = Field(max_length=5000)


class HubSyncOut(BaseModel):
    site: str
    last_seq: int = Field(description="Số lớn nhất trung tâm tỉnh đang giữ của đơn vị này")


class HubConfigOut(BaseModel):
    version: str | None
    site: dict[str, Any] | None = None
    services: list[dict[str, Any]] | None = None
    counters: list[dict[str, Any]] | None = None
    staff: list[dict[str, Any]] | None = None


class HubRelayQuery(BaseModel):
    wait: float = Field(default=0, ge=0, le=25, description="Chờ tối đa bấy nhiêu giây")


class HubRelayOut(BaseModel):
    requests: list[dict[str, Any]] = Field(
        description="Yêu cầu của điện thoại công dân đang chờ đơn vị (phương thức, đường dẫn,"
        " tiêu đề, nội dung base64)"
    )


class HubRelayAnswer(BaseModel):
    id: str = Field(min_length=16, max_length=64, description="Mã của yêu cầu được trả lời")
    status: int = Field(ge=100, le=599)
    headers: list[list[str]] = Field(max_length=50)
    body: str = Field(description="Nội dung trả lời, base64")


class HubRelayAnswersIn(BaseModel):
    answers: list[HubRelayAnswer] = Field(max_length=50)


class HubRelayAnswersOut(BaseModel):
    taken: int = Field(description="Số câu trả lời còn có người chờ")
