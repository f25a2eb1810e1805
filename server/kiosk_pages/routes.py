"""``GET /api/v1/tickets/{id}/ticket.png``: the printed ticket as a PNG, for staff and tests.

Same bearer tokens as the API (reader roles, own site only) and the same
``application/problem+json`` errors.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from kiosk.errors import MESSAGES
from kiosk.layout import paper_for
from kiosk.render import render_png
from server.api.auth import READERS, requires
from server.api.openapi import OPERATIONS, Operation
from server.api.problems import ApiProblem, answer_with_problems

from .lookup import requested_slip

preview_bp = Blueprint("ticket_preview", __name__, url_prefix="/api/v1")

answer_with_problems(preview_bp)

# Ticket ids are 32-bit integer columns: a larger id does not match (404).
PATH = f"/tickets/<int(max={2**31 - 1}):ticket_id>/ticket.png"
OPERATIONS.append(
    Operation(
        "GET",
        PATH,
        "Ảnh phiếu in (PNG, 1-bit), ?paper=58|80 (mm, mặc định 80)",
        READERS,
        problems=(404, 422),
        operation_id="ticket_png",
    )
)


@preview_bp.get(PATH)
@requires(*READERS)
def ticket_png(ticket_id: int) -> Response:
    """The ticket as it prints now (people ahead and wait as of this moment)."""
    try:
        paper = paper_for(request.args.get("paper", "80"))
    except ValueError:
        message = MESSAGES["invalid_paper"]
        errors = [{"field": "paper", "type": "enum", "message": message}]
        raise ApiProblem(422, "validation_error", errors=errors) from None
    slip = requested_slip(ticket_id, g.principal.site_id)
    response = Response(render_png(slip, paper), mimetype="image/png")
    # The image carries the ticket's tracking link: not for shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response
