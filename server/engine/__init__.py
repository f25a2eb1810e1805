"""The queue engine: plain Python over a SQLAlchemy session, no Flask.

Views and Socket.IO handlers call these functions; each is one transaction.
"""

from .counters import pause, resume
from .errors import QueueError
from .events import Event
from .ratings import rate_ticket
from .tickets import (
    Issued,
    call_next,
    call_ticket,
    cancel,
    finish,
    issue_ticket,
    no_show,
    recall,
    requeue,
    start,
    transfer,
)
from .unit_of_work import UnitOfWork
from .views import services_overview, site_state, ticket_with_wait

__all__ = [
    "Event",
    "Issued",
    "QueueError",
    "UnitOfWork",
    "call_next",
    "call_ticket",
    "cancel",
    "finish",
    "issue_ticket",
    "no_show",
    "pause",
    "rate_ticket",
    "recall",
    "requeue",
    "resume",
    "services_overview",
    "site_state",
    "start",
    "ticket_with_wait",
    "transfer",
]
