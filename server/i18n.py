"""Translations: Vietnamese first, English on request, through Flask-Babel.

The text in the code and templates is the Vietnamese itself (the message ids
are Vietnamese); ``translations/en/LC_MESSAGES/messages.po`` of each package
(server, its admin, clerk and kiosk pages, display, phone) gives the English.  The
catalogs are compiled into the instance folder when the app starts (only those
whose .po changed), so no binary .mo file is kept in the repository;
Flask-Babel merges the compiled directories.
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, get_locale

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
PACKAGES = (
    "server",
    "server/workstation",
    "server/admin",
    "server/kiosk_pages",
    "display",
    "phone",
)


def _catalog_sources() -> list[tuple[str, Path]]:
    root = Path(__file__).resolve().parent.parent
    return [(pkg.replace("/", "-"), root / pkg / "translations") for pkg in PACKAGES]


def compile_catalogs(out_root: Path) -> list[str]:
    """Compile every package's .po into ``out_root/<package>``; returns the directories."""
    directories = []
    for package, source in _catalog_sources():
        if not source.is_dir():
            continue
        target_root = out_root / package
        for po_path in source.glob("*/LC_MESSAGES/*.po"):
            mo_path = target_root / po_path.relative_to(source).with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=po_path.parent.parent.name)
            tmp = mo_path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            tmp.replace(mo_path)
        directories.append(str(target_root))
    return directories


def select_language() -> str:
    """``?lang=en`` switches (and is remembered for the device); Vietnamese otherwise."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    return remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE


def init_i18n(app: Flask) -> None:
    directories = compile_catalogs(Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directories) or "translations"
    Babel(app, locale_selector=select_language)
    app.jinja_env.globals["get_locale"] = get_locale
