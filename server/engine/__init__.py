"""The queue engine: plain Python over a SQLAlchemy session, no Flask.

Views and Socket.IO handlers call these functions; each is one transaction.
"""

from .counter_queue import counter_queue
from .counters import pause, release, resume, sign_in, sign_out
from .errors import QueueError
from .events import Event
from .ratings import rate_ticket
from .tickets import (
    Called,
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
    "Called",
    "Event",
    "Issued",
    "QueueError",
    "UnitOfWork",
    "call_next",
    "call_ticket",
    "cancel",
    "counter_queue",
    "finish",
    "issue_ticket",
    "no_show",
    "pause",
    "rate_ticket",
    "recall",
    "release",
    "requeue",
    "resume",
    "services_overview",
    "sign_in",
    "sign_out",
    "site_state",
    "start",
    "ticket_with_wait",
    "transfer",
]
