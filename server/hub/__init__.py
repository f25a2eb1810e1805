"""The province hub: sites join with a code, send their outbox, and are reported on.

Registered only when ``XEPHANG_ROLE=hub`` (``server.config``).
"""

from flask import Blueprint

from ..api.problems import answer_with_problems

bp = Blueprint("hub", __name__, url_prefix="/api/v1/hub")
answer_with_problems(bp)


@bp.before_request
def _hub_only() -> None:
    from flask import current_app

    from ..api.problems import ApiProblem

    if current_app.config.get("ROLE") != "hub":
        raise ApiProblem(404, "not_found")


from . import relay, routes  # noqa: E402,F401  (register the views on bp)
