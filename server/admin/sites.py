"""A new site (admins) and a site's settings: tickets, voice, priority, ratings."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from sounds.announce import DEFAULT_TEMPLATE

from ..runtime import runtime
from . import bp
from .access import admin_only, manager_page
from .site_forms import NewSiteForm, SettingsForm, flat_errors
from .site_pages import change_author, page, save, site_of_url
from .site_setup import (
    MAX_HEADER_LINE,
    MAX_HEADER_LINES,
    MAX_WAIT_TARGET_MIN,
    SiteSettings,
    create_site,
    save_settings,
    timezone_names,
)


@bp.route("/sites/new", methods=["GET", "POST"])
@admin_only
def site_new() -> Any:
    form = NewSiteForm()

    def again(errors: dict[str, str]) -> str:
        return page("admin/site_new.html", None, form=form, errors=errors, zones=timezone_names())

    if request.method == "GET":
        return again({})
    form.validate()
    return save(
        lambda: create_site(runtime().uow(), form.data_(), change_author()),
        url_for("admin.site_settings", code=(form.code.data or "").strip().lower()),
        again,
        flat_errors(form),
    )


@bp.route("/sites/<code>/settings", methods=["GET", "POST"])
@manager_page
def site_settings(code: str) -> Any:
    site = site_of_url(code)
    form = SettingsForm()

    def again(errors: dict[str, str]) -> str:
        return page(
            "admin/site_settings.html",
            site,
            form=form,
            errors=errors,
            zones=timezone_names(),
            default_template=DEFAULT_TEMPLATE,
            max_lines=MAX_HEADER_LINES,
            max_line=MAX_HEADER_LINE,
            max_wait_target=MAX_WAIT_TARGET_MIN,
        )

    if request.method == "GET":
        form.load(SiteSettings.of(site))
        return again({})
    form.validate()
    return save(
        lambda: save_settings(runtime().uow(), site.code, form.data_(), change_author()),
        url_for("admin.site_settings", code=site.code),
        again,
        flat_errors(form),
    )
