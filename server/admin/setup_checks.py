"""What every admin use case shares: its refusals, who makes the change, one transaction.

A refusal is a :class:`SetupError` naming each wrong field with its Vietnamese message (the
message id; ``%(name)s`` fields are filled in by the caller's translation). A use case checks
every field first (:class:`Checks`), then saves the change, its audit entry and a
``site.updated`` message in one transaction, so a refused change leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..engine.events import SITE_UPDATED
from ..engine.unit_of_work import UnitOfWork
from ..models import Site


@dataclass(frozen=True)
class Problem:
    """A message id with its values: ``str()`` gives the Vietnamese text."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


class SetupError(Exception):
    """A refused change: the wrong fields, each with its message."""

    def __init__(self, errors: dict[str, Problem]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ChangeAuthor:
    """Who makes a change to a site, as the audit log names them: their account and address."""

    user_id: int | None
    remote_addr: str = ""


class Checks:
    """Collects one message per field; ``done()`` raises when there is any."""

    def __init__(self) -> None:
        self.errors: dict[str, Problem] = {}

    def fail(self, name: str, message: str, **params: Any) -> None:
        self.errors.setdefault(name, Problem(message, params))

    def ok(self, name: str) -> bool:
        return name not in self.errors

    def text(self, name: str, value: str, *, limit: int, required: bool = True) -> None:
        if required and not value:
            self.fail(name, "Không được để trống.")
        elif len(value) > limit:
            self.fail(name, "Tối đa %(limit)d ký tự.", limit=limit)

    def whole(self, name: str, value: int | None, low: int, high: int) -> None:
        if value is not None and not low <= value <= high:
            self.fail(name, "Nhập một số từ %(low)d đến %(high)d.", low=low, high=high)

    def done(self) -> None:
        if self.errors:
            raise SetupError(self.errors)


def clean(value: str | None) -> str:
    return (value or "").strip()


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def commit_refusing(uow: UnitOfWork, errors: dict[str, Problem]) -> None:
    """Commit; a unique constraint another request won meanwhile becomes a field message."""
    try:
        uow.commit()
    except IntegrityError as err:
        uow.rollback()
        raise SetupError(errors) from err


def site_by_code(session: Session, code: str) -> Site:
    site = session.execute(select(Site).where(Site.code == code)).scalar_one_or_none()
    if site is None:
        raise LookupError(code)
    return site


def record(
    uow: UnitOfWork,
    author: ChangeAuthor,
    site: Site,
    action: str,
    *,
    target: str,
    detail: dict[str, Any],
    message: dict[str, Any],
) -> None:
    """The change's audit entry and its ``site.updated`` message, in the change's transaction:
    kiosks and displays re-read the site once it commits."""
    audit.record(
        uow.session,
        action,
        user_id=author.user_id,
        site_id=site.id,
        target=target,
        detail=detail,
        remote_addr=author.remote_addr,
    )
    uow.emit(site, SITE_UPDATED, message)


def audited(uow: UnitOfWork, action: str, **entry: Any) -> UnitOfWork:
    """The unit of work, writing one audit entry in the transaction it commits.

    For engine calls that open their own ``with uow`` (``engine.release``): the
    entry is saved with the change or not at all.
    """
    uow.before_commit(lambda session: audit.record(session, action, at=uow.clock(), **entry))
    return uow
