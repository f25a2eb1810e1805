"""The clips over HTTP for the displays, and the voice's status for the admin.

``GET /sounds/<path>`` serves a WAV of the sounds folder (the URLs a ``ticket.called`` event
carries). Paths are resolved by ``SoundCache.resolve``: nothing outside the folder, nothing
but ``.wav``. A joined announcement is named by its content and never changes, so it is cached
for a year; a clip or the chime may be made again (``xephang sounds build --force``), so its
URL carries ``?v=<version>`` and an ETag answers a revalidation.

``GET /api/v1/sites/{site}/sounds/status`` (admin, manager): which voice speaks, what each
voice lacks, whether the server fell back to espeak-ng, the last announcement.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request, send_file
from pydantic import BaseModel, ConfigDict

from server.api.auth import requires
from server.api.openapi import OPERATIONS, Operation
from server.api.problems import answer_with_problems
from server.realtime.announcements import current_announcer

bp = Blueprint("sounds", __name__)

answer_with_problems(bp)

STATUS_ROLES = ("admin", "manager")
STATUS_PATH = "/sites/<site>/sounds/status"
YEAR = 365 * 24 * 3600
DAY = 24 * 3600


class SoundStatusOut(BaseModel):
    """The voice's state (see docs/sounds.md, ``sounds.status.sound_status``)."""

    model_config = ConfigDict(extra="allow")

    dir: str
    voice: str | None
    voices: dict[str, Any]
    chime: bool
    espeak_ng: bool
    template: str
    repeat: int
    offline_fallback: bool
    announcements: int
    fallbacks: int
    last: dict[str, Any] | None
    audio_errors: int
    last_audio_error: str | None


OPERATIONS.append(
    Operation(
        "GET",
        STATUS_PATH,
        "Tình trạng giọng đọc: giọng đang dùng, đoạn còn thiếu, có phải dùng giọng dự phòng",
        STATUS_ROLES,
        response=SoundStatusOut,
        operation_id="sound_status",
    )
)


@bp.get("/sounds/<path:relative>")
def sound_file(relative: str) -> Response:
    cache = current_announcer(current_app).cache
    try:
        path = cache.resolve(relative)
    except (FileNotFoundError, ValueError, OSError):
        abort(404)
    if not path.is_file():
        abort(404)
    immutable = relative.startswith("joined/") or "v" in request.args
    response = send_file(
        path,
        mimetype="audio/wav",
        conditional=True,
        etag=True,
        max_age=YEAR if immutable else DAY,
    )
    if immutable:
        response.cache_control.immutable = True
    response.cache_control.public = True
    return response


@bp.get("/api/v1" + STATUS_PATH)
@requires(*STATUS_ROLES)
def status(site: str) -> Response:
    announcer = current_announcer(current_app)
    return jsonify(announcer.status(g.principal.site_id))
