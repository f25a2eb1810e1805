"""Which operation may move a ticket from which status, and to which: the one table.

Every operation of the engine that changes a ticket's status asks ``move_to`` first, so a
rule about statuses is read (and changed) here and nowhere else. Plain Python: no session.
"""

from __future__ import annotations

from .errors import conflict
from .rules import CALLED, CANCELLED, DONE, NO_SHOW, REMOTE, SERVING, WAITING

# The operations, by the name the refusal gives (``invalid_transition``'s ``action``).
CALL = "call"
RECALL = "recall"
START = "start"
FINISH = "finish"
NO_SHOW_ACTION = "no_show"  # (rules.NO_SHOW is the status)
REQUEUE = "requeue"
TRANSFER = "transfer"
CANCEL = "cancel"
CHECK_IN_ACTION = "check_in"  # (rules.CHECK_IN is an arrival setting)
# Call-next ending the counter's ticket that was called but never started, when the site puts
# such a ticket back at the front of its queue (``Site.unstarted_on_next``): never asked for
# by a person, so never refused to one.
PUT_BACK = "put_back"

# operation -> {status it may start from: status it leaves the ticket in}
TRANSITIONS: dict[str, dict[str, str]] = {
    CALL: {WAITING: CALLED},
    RECALL: {CALLED: CALLED},
    START: {CALLED: SERVING},
    FINISH: {CALLED: DONE, SERVING: DONE},
    NO_SHOW_ACTION: {CALLED: NO_SHOW},
    REQUEUE: {NO_SHOW: WAITING},
    TRANSFER: {WAITING: WAITING, CALLED: WAITING, SERVING: WAITING},
    CANCEL: {WAITING: CANCELLED, CALLED: CANCELLED, NO_SHOW: CANCELLED},
    CHECK_IN_ACTION: {REMOTE: WAITING},
    PUT_BACK: {CALLED: WAITING},
}


def allowed(action: str, status: str) -> bool:
    """Whether ``action`` may be done to a ticket in ``status``."""
    return status in TRANSITIONS[action]


def move_to(action: str, status: str) -> str:
    """The status ``action`` leaves a ticket in ``status`` in.

    Refuses (``invalid_transition``, naming the status and the action) what the table does
    not allow; an unknown action is a programming error (``KeyError``).
    """
    target = TRANSITIONS[action].get(status)
    if target is None:
        raise conflict("invalid_transition", status=status, action=action)
    return target
