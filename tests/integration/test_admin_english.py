"""The admin pages in English: every Vietnamese message id of ``server/admin`` has its English.

The ids are extracted at test time with Babel, the way ``pybabel extract`` would
(with ``site_setup``'s refusals, ``fail(name, "…")`` and ``Problem("…")``, as
keywords), plus the ids the code hands to gettext at run time; each must have an
English text with the same placeholders that is safe where templates put it.
Then two pages are rendered with ``?lang=en`` for a logged-in admin.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from werkzeug.security import generate_password_hash

from server.accounts import services as accounts_services
from server.accounts.services import create_user
from server.admin import GLOBAL_PAGES, SITE_PAGES, devices, site_forms
from server.i18n import PACKAGES
from server.messages import ERRORS

from ..factories import ServiceSpec, build_site

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ROOT / "server" / "admin"
CATALOG = ADMIN / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PASSWORD = "mat-khau-rat-dai-1"

KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "fail": (2,), "Problem": (1,)}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
# Given to gettext with a variable: service_pages.py's form titles (``_(title)`` in the template).
SERVICE_FORM_TITLES = ("Sửa lĩnh vực", "Thêm lĩnh vực")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale="en")


def extracted_ids() -> set[str]:
    """What ``pybabel extract`` finds in server/admin (Python and Jinja)."""
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ADMIN), METHODS, keywords=KEYWORDS, comment_tags=()
    ):
        found.update(m for m in (message if isinstance(message, tuple) else (message,)) if m)
    return found


def account_messages() -> set[str]:
    """The refusals of ``accounts.services`` (shown through ``_(err.message)`` on staff pages).

    An f-string counts when it only fills in the module's constants (a length);
    one carrying what was typed (a username) cannot have a catalog entry.
    """
    tree = ast.parse(inspect.getsource(accounts_services))
    names = vars(accounts_services)
    found = set()
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("AccountError", "AccountForbidden", "NoSuchAccount")
            and node.args
        ):
            continue
        text = node.args[0]
        if isinstance(text, ast.Constant) and isinstance(text.value, str):
            found.add(text.value)
        elif isinstance(text, ast.JoinedStr):
            filled = [v.value for v in text.values if isinstance(v, ast.FormattedValue)]
            if all(isinstance(v, ast.Name) and isinstance(names.get(v.id), int) for v in filled):
                found.add(eval(compile(ast.Expression(text), "<message>", "eval"), names))
    return found


def runtime_ids() -> set[str]:
    """Ids the admin code passes to gettext in a variable, which extraction cannot see."""
    ids = {label for _endpoint, label in (*SITE_PAGES, *GLOBAL_PAGES)}
    ids.update(site_forms._WTFORMS_VI.values())
    ids.add(site_forms._INVALID)
    ids.update(SERVICE_FORM_TITLES)
    # the devices page shows create_pairing_code's refusals through _(error_text(...))
    ids.update(ERRORS[code] for code in devices.ERROR_FIELDS if "{" not in ERRORS[code])
    ids.update(account_messages())
    return ids


def _is_code(msgid: str) -> bool:
    """Nothing to translate: no word of two letters or more (a number, ``3: A001.``)."""
    return not re.search(r"[^\W\d_]{2,}", msgid)


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


# --- the catalog -----------------------------------------------------------------------------


def test_extraction_finds_the_admin_messages() -> None:
    ids = extracted_ids()
    # one of each kind: a template, _() in a view, _l() in a form, a refusal of site_setup
    assert "Nhật ký thao tác" in ids
    assert "Đã lưu." in ids
    assert "Mật khẩu ban đầu" in ids
    assert "Trùng giờ với buổi %(other)s–%(end)s." in ids
    assert "Quầy số %(n)d đã có." in ids
    assert len(ids) > 200
    accounts = account_messages()
    assert "Cán bộ cần đúng một đơn vị." in accounts
    assert f"Mật khẩu phải có ít nhất {accounts_services.MIN_PASSWORD_LENGTH} ký tự." in accounts
    assert "Tên đăng nhập “%(username)s” đã có." in accounts  # filled in after translation
    assert not any("{" in m or "'" in m for m in accounts)  # user data is never an id


@pytest.mark.parametrize("group", ["extracted", "runtime"])
def test_every_admin_message_has_its_english(group: str) -> None:
    catalog = _catalog(CATALOG)
    ids = extracted_ids() if group == "extracted" else runtime_ids()
    missing, untranslated, fuzzy = [], [], []
    for msgid in sorted(ids):
        message = catalog.get(msgid)
        if message is None or not message.string:
            missing.append(msgid)
        elif message.fuzzy:
            fuzzy.append(msgid)
        elif message.string == msgid and not _is_code(msgid):
            untranslated.append(msgid)
    assert not missing, f"no English in server/admin's catalog for {missing}"
    assert not untranslated, f"English equal to the Vietnamese for {untranslated}"
    assert not fuzzy, f"fuzzy entries {fuzzy}"


def test_the_english_keeps_the_placeholders_and_is_safe_in_the_templates() -> None:
    catalog = _catalog(CATALOG)
    assert not list(catalog.check()), list(catalog.check())
    for message in catalog:
        if not message.id:
            continue
        english = message.string
        assert isinstance(english, str) and english.strip(), message.id
        assert _placeholders(english) == _placeholders(message.id), message.id
        # Jinja's gettext marks a translation as safe markup and always applies %: no markup
        # characters (one sits in a single-quoted JavaScript string) and no lone percent sign.
        assert not set(english) & set("<>&\"'"), message.id
        assert "%" not in re.sub(r"%\(\w+\)[sd]", "", english), message.id


def test_the_catalog_has_each_id_once_and_agrees_with_the_other_packages() -> None:
    ids = re.findall(r'^msgid "(.*)"$', CATALOG.read_text(encoding="utf-8"), flags=re.M)
    assert len(ids) == len(set(ids))
    # Flask-Babel merges the packages' catalogs into one: an id they share must read the same.
    ours = {m.id: m.string for m in _catalog(CATALOG) if m.id}
    for package in PACKAGES:
        other = ROOT / package / "translations" / "en" / "LC_MESSAGES" / "messages.po"
        if package == "server/admin" or not other.exists():
            continue
        for message in _catalog(other):
            if message.id in ours:
                assert message.string == ours[message.id], (package, message.id)


# --- the pages -------------------------------------------------------------------------------


@pytest.fixture
def admin_client(app: Any, database: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Site s1 (two services, one counter) and a logged-in admin."""
    monkeypatch.setattr(
        accounts_services,
        "generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"),
    )
    with database.writes() as session:
        build_site(
            session,
            "s1",
            services=[
                ServiceSpec("HT", name="Hộ tịch", prefix="A"),
                ServiceSpec("CT", name="Chứng thực", prefix="B"),
            ],
            counters={1: {"HT": 10, "CT": 1}},
        )
    with database.writes() as session, session.begin():
        create_user(session, "root", "admin", PASSWORD, clock(), full_name="Quản Trị")
    client = app.test_client()
    response = client.post("/login", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _english_page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    html = str(response.get_data(as_text=True))
    assert '<html lang="en">' in html
    # no text of the catalog is left in Vietnamese between two tags (the data aside)
    for msgid in (m.id for m in _catalog(CATALOG) if m.id and not _is_code(m.id)):
        assert f">{msgid}<" not in html, msgid
    return html


def _headings(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th>(.*?)</th>", html)]


def test_the_staff_list_in_english(admin_client: Any) -> None:
    html = _english_page(admin_client, "/admin/users?lang=en")
    assert "<h1>Staff</h1>" in html
    assert ">Create account</a>" in html
    assert _headings(html) == [
        "Username",
        "Full name",
        "Role",
        "Sites",
        "Status",
        "Last login",
        "Actions",
    ]
    assert "<td>Administrator</td>" in html and "every site" in html and "Active" in html
    for menu in (">Sites</a>", ">Staff</a>", ">Audit log</a>", ">Log out</button>"):
        assert menu in html
    assert "Reset the password? This person will be logged out." in html  # the confirm()


def test_a_sites_services_in_english(admin_client: Any) -> None:
    html = _english_page(admin_client, "/admin/sites/s1/services?lang=en")
    assert "<h1>Service</h1>" in html
    assert ">Add service</a>" in html
    assert _headings(html) == [
        "Order",
        "Code",
        "Service name",
        "Ticket numbers",
        "Ticket hours",
        "Max/day",
        "Status",
        "",
    ]
    assert "Taking tickets" in html and "All day" in html and ">Edit</a>" in html
    for menu in (">Settings</a>", ">Counter</a>", ">Devices</a>"):
        assert menu in html
    assert "Hộ tịch" in html  # the site's own data stays as typed


def test_the_language_is_remembered_and_vietnamese_is_the_default(admin_client: Any) -> None:
    assert "<h1>Cán bộ</h1>" in admin_client.get("/admin/users").get_data(as_text=True)
    admin_client.get("/admin/?lang=en")
    assert "<h1>Staff</h1>" in admin_client.get("/admin/users").get_data(as_text=True)
    vietnamese = admin_client.get("/admin/users?lang=vi").get_data(as_text=True)
    assert "<h1>Cán bộ</h1>" in vietnamese


def test_refusals_are_shown_in_english(admin_client: Any) -> None:
    form = {"code": "HT", "name": "", "number_width": "3", "sort_order": "0"}
    url = "/admin/sites/s1/services/new?lang=en"
    # WTForms' own message (an empty required field), through site_forms' Vietnamese ids
    response = admin_client.post(url, data={**form, "service_minutes": ""})
    html = str(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "<h1>Add service</h1>" in html
    assert "Not saved: correct the marked fields below." in html
    assert "This cannot be empty." in html
    # site_setup's rules, with their values filled in after the translation
    response = admin_client.post(
        url,
        data={
            **form,
            "name": "Mới",
            "service_minutes": "5",
            "sessions-0-start": "7h",
            "sessions-0-end": "11:30",
        },
    )
    html = str(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "The code “HT” is already used by another service." in html
    assert "Times must look like HH:MM, for example 07:30." in html


def test_an_account_refusal_is_shown_in_english(admin_client: Any) -> None:
    response = admin_client.post(
        "/admin/users/new?lang=en",
        data={"username": "minh", "full_name": "", "role": "clerk", "password": ""},
    )
    assert response.status_code == 400
    assert "A clerk needs exactly one site." in response.get_data(as_text=True)
