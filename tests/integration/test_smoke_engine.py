from server import engine

from ..factories import build_site


def test_issue_then_call(database, uow):
    with database.writes() as s:
        build_site(s)
    t = engine.issue_ticket(uow(), "s1", "A").ticket
    assert t["number"] == "A001"
    called = engine.call_next(uow(), "s1", 1)
    assert called["id"] == t["id"] and called["status"] == "called"
