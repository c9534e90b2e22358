"""Fast pages: the register, the documents API, the desk, the training overview and the records
list ask the database a fixed number of questions, however many rows they show (counted with
an event on the engine: the same request with three times the rows sends no more statements)."""

import gc
import threading

import pytest
from sqlalchemy import event

from docmgmt.extensions import db

PAGES = {
    "register": ("qm", "/documents/"),
    "documents API": ("qm", "/api/v1/documents"),
    "desk": ("qm", "/desk"),
    "training overview": ("qm", "/training/overview"),
    "records list": ("qm", "/records/"),
}


class Counter:
    """Statements of this thread (the test client runs the request in it): a heartbeat or
    index thread left by an earlier test is not the page's doing."""

    def __init__(self):
        self.n = 0
        self.sql = []
        self.thread = threading.get_ident()

    def __call__(self, conn, cursor, statement, *args):
        if threading.get_ident() != self.thread:
            return
        self.n += 1
        self.sql.append(" ".join(statement.split()))


def _count(app, client, path, headers=None) -> int:
    counter = Counter()
    event.listen(db.engine, "before_cursor_execute", counter)
    # The garbage collector runs at every chance: rows a page loaded but did not keep are freed
    # at once (the session holds rows weakly), as they may be in a busy process, so a page that
    # relies on them staying loaded asks again here every time, not just now and then.
    thresholds = gc.get_threshold()
    gc.set_threshold(1, 1, 1)
    try:
        r = client.get(path, headers=headers or {})
        assert r.status_code == 200, (path, r.status_code)
    finally:
        gc.set_threshold(*thresholds)
        event.remove(db.engine, "before_cursor_execute", counter)
    _count.last = counter.sql
    return counter.n


def _grow(people, effective_doc, rt, k):
    from docmgmt.records import operations as rops
    from docmgmt.training import operations as tops

    for _ in range(k):
        doc, _rev = effective_doc()
        tops.set_requirement(people["qm"], doc, "role", "staff", 14)
        rops.file_record(people["qm"], rt, title="工单", values={"customer": "张三"})
    db.session.commit()


@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_asks_the_database_the_same_number_of_questions_for_more_rows(
    app, client, auth, people, effective_doc, token_for, page
):
    from docmgmt.records import operations as rops

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=12,
        fields=[{"name": "customer", "label": "客户", "kind": "text", "required": True}],
    )
    db.session.commit()
    who, path = PAGES[page]
    headers = token_for(people[who]) if path.startswith("/api/") else None
    if headers is None:
        auth.login(who)
    _grow(people, effective_doc, rt, 2)
    _count(app, client, path, headers)  # warm: the first request of a process loads more
    small = _count(app, client, path, headers)
    small_sql = _count.last
    _grow(people, effective_doc, rt, 4)
    _count(app, client, path, headers)  # as warm as the first (the user reloaded after commits)
    big = _count(app, client, path, headers)
    assert big <= small, f"{page}: {small} statements for 2 rows, {big} for 6" + "\n".join(
        ["", *small_sql, "----", *_count.last]
    )


def _overdue_training(people, effective_doc, k):
    from datetime import timedelta

    from sqlalchemy import update

    from docmgmt.clock import local_today
    from docmgmt.training import operations as tops
    from docmgmt.training.models import TrainingTask

    for _ in range(k):
        doc, _rev = effective_doc()
        tops.set_requirement(people["qm"], doc, "role", "staff", 14)
    db.session.execute(update(TrainingTask).values(due_date=local_today() - timedelta(days=1)))
    db.session.commit()


def test_the_desk_lists_overdue_training_in_a_fixed_number_of_questions(
    app, client, auth, people, effective_doc
):
    """The desk's overdue-training section names the person, document and revision of each
    task: loaded together, not one query per task."""
    auth.login("qm")
    _overdue_training(people, effective_doc, 2)
    _count(app, client, "/desk")
    small = _count(app, client, "/desk")
    small_sql = _count.last
    _overdue_training(people, effective_doc, 4)
    page = client.get("/desk").get_data(as_text=True)
    assert "Overdue training" in page
    big = _count(app, client, "/desk")
    assert big <= small, f"{small} statements for 2 documents, {big} for 6" + "\n".join(
        ["", *small_sql, "----", *_count.last]
    )


@pytest.mark.parametrize("page", ["register", "documents API", "desk"])
def test_lists_of_revisions_do_not_read_their_bodies(
    app, client, auth, people, effective_doc, token_for, page
):
    """A revision's body (its blocks, JSON to decode) is read only where it is shown."""
    effective_doc()
    who, path = PAGES[page]
    headers = token_for(people[who]) if path.startswith("/api/") else None
    if headers is None:
        auth.login(who)
    _count(app, client, path, headers)
    _count(app, client, path, headers)
    assert not [s for s in _count.last if "body_blocks" in s], _count.last


def _links_and_copies(people, effective_doc, doc, rev, k, start):
    from docmgmt.auth.models import Department
    from docmgmt.control import operations as cops
    from docmgmt.printing import operations as pops

    for i in range(start, start + k):
        target, _r = effective_doc(title=f"引用的程序{i}")
        cops.add_link(people["qm"], doc, target, "refers_to")
        dep = Department(code=f"D{i}", name=f"部门{i}")
        db.session.add(dep)
        db.session.flush()
        pops.issue_copy(people["qm"], rev, holder_name=f"持有人{i}", department=dep)
    db.session.commit()


def test_a_procedure_page_asks_the_same_number_of_questions_for_more_links_and_copies(
    app, client, auth, people, effective_doc
):
    """The reading page lists the related documents (each with its revision in force) and the
    controlled copies (each with its department) without a query per row."""
    doc, rev = effective_doc()
    path = f"/documents/{doc.id}/revisions/{rev.id}"
    auth.login("qm")
    _links_and_copies(people, effective_doc, doc, rev, 2, 0)
    _count(app, client, path)
    small = _count(app, client, path)
    small_sql = _count.last
    _links_and_copies(people, effective_doc, doc, rev, 4, 2)
    page = client.get(path).get_data(as_text=True)
    assert "引用的程序5" in page and "部门5" in page
    big = _count(app, client, path)
    assert big <= small, f"{small} statements for 2 links and copies, {big} for 6" + "\n".join(
        ["", *small_sql, "----", *_count.last]
    )


def _desk_lines(people, create_user, effective_doc, k, start):
    from sqlalchemy import update

    from docmgmt.control import operations as cops
    from docmgmt.printing import operations as pops
    from docmgmt.versioning.models import Revision, RevisionState

    for i in range(start, start + k):
        asker = create_user(f"asker{i}", ["staff"], f"提出人{i}")
        doc, rev = effective_doc(title=f"待办程序{i}")
        cops.create_request(asker, doc, reason=f"原因{i}", proposed_change="修改")
        pops.issue_copy(people["qm"], rev, holder_name=f"持有人{i}")
        # Superseded (as by a newer revision): its copy is due for recall.
        db.session.execute(
            update(Revision).where(Revision.id == rev.id).values(state=RevisionState.SUPERSEDED)
        )
    db.session.commit()
    db.session.expire_all()


def test_the_desk_names_requesters_and_copies_to_recall_in_a_fixed_number_of_questions(
    app, client, auth, people, create_user, effective_doc
):
    """Change requests name their requester and document, copies to recall their document and
    revision: the desk loads each kind once, not once per line."""
    auth.login("qm")
    _desk_lines(people, create_user, effective_doc, 2, 0)
    _count(app, client, "/desk")
    small = _count(app, client, "/desk")
    small_sql = _count.last
    _desk_lines(people, create_user, effective_doc, 4, 2)
    page = client.get("/desk").get_data(as_text=True)
    assert "提出人5" in page and "持有人5" in page
    big = _count(app, client, "/desk")
    assert big <= small, f"{small} statements for 2 lines each, {big} for 6" + "\n".join(
        ["", *small_sql, "----", *_count.last]
    )
