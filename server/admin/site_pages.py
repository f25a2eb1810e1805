"""What the site, service and counter pages share: the site of the URL, saving, answering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..models import Site
from ..runtime import runtime
from .access import managed_site, me
from .setup_checks import ChangeAuthor, SetupError
from .site_forms import translated

# A form with wrong fields is answered with this status, shown again with the values typed.
INVALID = 422


def change_author() -> ChangeAuthor:
    return ChangeAuthor(user_id=me().id, remote_addr=request.remote_addr or "")


def site_of_url(code: str) -> Site:
    """The site of the URL (detached): 404 when unknown, 403 when not managed by this person."""
    with runtime().db.reads() as session:
        site = managed_site(session, me(), code)
        session.expunge(site)
        return site


def save(
    change: Callable[[], Any],
    done: str,
    again: Callable[[dict[str, str]], str],
    errors: dict[str, str] | None = None,
) -> Response | tuple[str, int]:
    """Run ``change`` unless the form already has errors; "Đã lưu." and on, or the form again.

    ``change`` is one transaction (:mod:`.setup_checks`): on a refusal nothing was
    written, and the page shows each message beside its field.
    """
    if errors:
        return again(errors), INVALID
    try:
        change()
    except SetupError as err:
        return again(translated(err.errors)), INVALID
    except LookupError:
        abort(404)
    flash(_("Đã lưu."), "success")
    return redirect(done)


def page(template: str, site: Site | None, **context: Any) -> str:
    return render_template(template, site=site, **context)
