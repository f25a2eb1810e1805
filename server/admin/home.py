"""The admin start page: the sites this person manages."""

from __future__ import annotations

from flask import render_template

from ..runtime import runtime
from . import bp
from .access import manageable_sites, manager_page, me


@bp.get("/")
@manager_page
def index() -> str:
    staff = me()
    with runtime().db.reads() as session:
        sites = manageable_sites(session, staff)
        return render_template("admin/index.html", sites=sites, staff=staff)
