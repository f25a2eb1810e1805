"""The ticket's transition table: every (operation, status) pair, allowed or refused.

No database: the table is plain data. The expected grid is written out here on its own, so
a change to the table shows as a failing pair.
"""

from __future__ import annotations

import pytest

from server.engine import transitions
from server.engine.errors import QueueError
from server.engine.rules import STATUSES

W, C, S, D, N, X, R = "waiting", "called", "serving", "done", "no_show", "cancelled", "remote"

# operation -> what each allowed status becomes; every other status is refused.
EXPECTED = {
    "call": {W: C},
    "recall": {C: C},
    "start": {C: S},
    "finish": {C: D, S: D},
    "no_show": {C: N},
    "requeue": {N: W},
    "transfer": {W: W, C: W, S: W},
    "cancel": {W: X, C: X, N: X},
    "check_in": {R: W},
    "put_back": {C: W},
}

PAIRS = [(action, status) for action in EXPECTED for status in STATUSES]


def test_the_table_names_these_operations_and_every_status_is_known() -> None:
    assert set(transitions.TRANSITIONS) == set(EXPECTED)
    assert set(STATUSES) == {W, C, S, D, N, X, R}
    for moves in transitions.TRANSITIONS.values():
        assert set(moves) <= set(STATUSES)
        assert set(moves.values()) <= set(STATUSES)


@pytest.mark.parametrize(("action", "status"), PAIRS)
def test_each_pair_is_allowed_or_refused_as_before(action: str, status: str) -> None:
    target = EXPECTED[action].get(status)
    assert transitions.allowed(action, status) is (target is not None)
    if target is not None:
        assert transitions.move_to(action, status) == target
        return
    with pytest.raises(QueueError) as refused:
        transitions.move_to(action, status)
    err = refused.value
    assert (err.code, err.kind) == ("invalid_transition", "conflict")
    assert err.params == {"status": status, "action": action}


@pytest.mark.parametrize("status", [D, X])
def test_a_closed_ticket_moves_no_more(status: str) -> None:
    assert not any(transitions.allowed(action, status) for action in EXPECTED)


def test_an_unknown_operation_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        transitions.move_to("serve", W)
