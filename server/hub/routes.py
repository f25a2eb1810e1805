"""The hub's API for site servers: join with a code, send a batch, read the configuration."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ..api.problems import ApiProblem
from ..limits import PAIRING_ATTEMPTS, limiter
from ..models import Site
from ..runtime import runtime
from . import bp
from .credentials import redeem_code, site_of_credential
from .receive import parse_batch, store_batch

MAX_BATCH_BYTES = 16 * 1024 * 1024


def _json() -> Any:
    if request.content_length is not None and request.content_length > MAX_BATCH_BYTES:
        raise ApiProblem(413, "payload_too_large")
    if not request.is_json:
        raise ApiProblem(415, "unsupported_media_type")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiProblem(400, "invalid_json")
    return body


def _credential() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiProblem(401, "hub_unauthorized")
    return value.strip()


@bp.post("/join")
@limiter.limit(PAIRING_ATTEMPTS)
def join() -> Response:
    """A site trades its one-time code for its credential."""
    body = _json()
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        raise ApiProblem(422, "hub_code_not_found")
    managed = body.get("managed", "local")
    rt = runtime()
    with rt.db.writes() as session:
        joined = redeem_code(session, body["code"][:40], managed, rt.clock())
        session.commit()
    return jsonify(
        {
            "site": joined.site_code,
            "name": joined.site_name,
            "credential": joined.credential,
            "last_seq": joined.last_seq,
            "managed": joined.managed,
        }
    )


@bp.post("/sync")
def sync() -> Response:
    """Store a batch of the site's outbox once each, in one transaction; the highest seq held."""
    credential = _credential()
    body = _json()
    rt = runtime()
    with rt.db.writes() as session:
        hub_site = site_of_credential(session, credential, lock=True)
        if hub_site is None:
            raise ApiProblem(401, "hub_unauthorized")
        site = session.get(Site, hub_site.site_id)
        assert site is not None
        local_id, site_last, entries = parse_batch(body, hub_site, site)
        last = store_batch(session, hub_site, local_id, entries, rt.clock(), site_last)
        session.commit()
    return jsonify({"site": site.code, "last_seq": last})


@bp.get("/config")
def config() -> Response:
    """The site's configuration managed at the hub (``version`` null: managed at the site)."""
    from .config import site_config

    credential = _credential()
    rt = runtime()
    with rt.db.reads() as session:
        hub_site = site_of_credential(session, credential)
        if hub_site is None:
            raise ApiProblem(401, "hub_unauthorized")
        body = site_config(session, hub_site)
    return jsonify(body or {"version": None})


def _describe() -> None:
    """The hub's routes in /api/v1/openapi.json (their credentials are the hub's own)."""
    from ..api.openapi import OPERATIONS, Operation
    from .schemas import (
        HubConfigOut,
        HubJoinIn,
        HubJoinOut,
        HubRelayAnswersIn,
        HubRelayAnswersOut,
        HubRelayOut,
        HubRelayQuery,
        HubSyncIn,
        HubSyncOut,
    )

    common = (400, 404, 413, 415, 422)
    OPERATIONS.extend(
        [
            Operation(
                "POST",
                "/hub/join",
                "Trung tâm tỉnh: đổi mã tham gia lấy mã kết nối của đơn vị (dùng một lần)",
                ("site",),
                body=HubJoinIn,
                response=HubJoinOut,
                problems=(*common, 429),
                operation_id="hub_join",
            ),
            Operation(
                "POST",
                "/hub/sync",
                "Trung tâm tỉnh: nhận một lô sự kiện của đơn vị, lưu mỗi sự kiện đúng một lần",
                ("site",),
                body=HubSyncIn,
                response=HubSyncOut,
                problems=(*common, 409),
                operation_id="hub_sync",
            ),
            Operation(
                "GET",
                "/hub/config",
                "Trung tâm tỉnh: cấu hình của đơn vị do tỉnh quản lý (có phiên bản)",
                ("site",),
                response=HubConfigOut,
                problems=(404,),
                operation_id="hub_config",
            ),
            Operation(
                "GET",
                "/hub/relay",
                "Trung tâm tỉnh: đơn vị nhận các yêu cầu trang điện thoại chuyển tiếp qua tỉnh",
                ("site",),
                query=HubRelayQuery,
                response=HubRelayOut,
                problems=(404, 422),
                operation_id="hub_relay_poll",
            ),
            Operation(
                "POST",
                "/hub/relay",
                "Trung tâm tỉnh: đơn vị gửi câu trả lời của các yêu cầu chuyển tiếp đã nhận",
                ("site",),
                body=HubRelayAnswersIn,
                response=HubRelayAnswersOut,
                problems=common,
                operation_id="hub_relay_answers",
            ),
        ]
    )


_describe()
