"""Fast pages: the register, the documents API, the desk, the training overview and the records
list ask the database a fixed number of questions, however many rows they show (counted with
an event on the engine: the same request with three times the rows sends no more statements)."""

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
    def __init__(self):
        self.n = 0
        self.sql = []

    def __call__(self, conn, cursor, statement, *args):
        self.n += 1
        self.sql.append(statement.split("\n")[0][:150])


def _count(app, client, path, headers=None) -> int:
    counter = Counter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        r = client.get(path, headers=headers or {})
        assert r.status_code == 200, (path, r.status_code)
    finally:
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
