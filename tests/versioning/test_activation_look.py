"""The request hook looks for due revisions until a look finds none; then not again that day.
The next day's first request looks again and makes a scheduled revision effective."""

from datetime import timedelta

from sqlalchemy import event

from docmgmt.extensions import db
from docmgmt.versioning.models import Revision, RevisionState

DUE_LOOK = "SELECT revision.id FROM revision WHERE revision.state"


def _looks(client, path) -> int:
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return sum(s.startswith(DUE_LOOK) for s in seen)


def test_a_day_with_nothing_due_is_looked_at_once_and_the_next_day_activates(
    app, client, auth, people, effective_doc, draft_of, approve, today, monkeypatch
):
    from docmgmt.versioning import publishing
    from tests.versioning.test_activation import _move_clock

    doc, a0 = effective_doc()
    a1 = approve(draft_of(doc, change_summary="调整"))
    publishing.publish_revision(people["qm"], a1, today + timedelta(days=1))
    db.session.commit()
    auth.login("qm")
    _looks(client, "/desk")  # nothing due today: seen once (by now, or by the log-in) ...
    assert _looks(client, "/desk") == 0  # ... and not asked again today
    assert _looks(client, f"/documents/{doc.id}") == 0

    _move_clock(monkeypatch, 1)
    assert _looks(client, f"/documents/{doc.id}") >= 1  # a new day: looked at, and activated
    db.session.expire_all()
    assert db.session.get(Revision, a1.id).state == RevisionState.EFFECTIVE
    assert db.session.get(Revision, a0.id).state == RevisionState.SUPERSEDED
    assert _looks(client, "/desk") == 1  # nothing left due: seen once more ...
    assert _looks(client, "/desk") == 0  # ... and done for that day
