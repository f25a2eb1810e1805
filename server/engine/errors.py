"""Refusals of the queue engine: a stable code, a kind, and the facts for the message."""

from __future__ import annotations

from typing import Any, Literal

Kind = Literal["not_found", "conflict", "invalid", "forbidden"]


class QueueError(Exception):
    """An operation the queue rules refuse; nothing was changed."""

    def __init__(self, code: str, kind: Kind = "conflict", **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.kind: Kind = kind
        self.params = params

    def __repr__(self) -> str:
        return f"QueueError({self.code!r}, {self.params!r})"


def not_found(code: str, **params: Any) -> QueueError:
    return QueueError(code, "not_found", **params)


def conflict(code: str, **params: Any) -> QueueError:
    return QueueError(code, "conflict", **params)


def invalid(code: str, **params: Any) -> QueueError:
    return QueueError(code, "invalid", **params)
