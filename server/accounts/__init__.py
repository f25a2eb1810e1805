"""Staff accounts: login and logout pages, the login checks for later pages."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
from .security import Staff, current_staff, init_accounts, staff_required  # noqa: E402

__all__ = ["bp", "Staff", "current_staff", "init_accounts", "staff_required"]
