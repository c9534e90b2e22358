"""Staff know what to read: the start page lists the person's open read-and-understood tasks
(overdue first) and the reading page of such a revision carries the signature itself, through
the one acknowledgement operation."""

import re
from datetime import timedelta

from docmgmt.extensions import db
from tests.conftest import PASSWORD, page_text


def _two_tasks(people, create_document, draft_of, approve, today):
    """赵敏 must read two procedures: the second one's task is already overdue."""
    from docmgmt.training import operations as tops
    from docmgmt.training.models import TrainingTask
    from docmgmt.versioning import publishing

    docs = []
    for title in ("客户投诉管理控制程序", "报修、送修和上门维修服务控制程序"):
        doc = create_document(title=title)
        tops.set_requirement(people["qm"], doc, "role", "staff", 14)
        publishing.publish_revision(people["qm"], approve(draft_of(doc)), today)
        docs.append(doc)
    db.session.commit()
    late = db.session.query(TrainingTask).filter_by(document_id=docs[1].id).one()
    late.due_date = today - timedelta(days=3)
    db.session.commit()
    soon = db.session.query(TrainingTask).filter_by(document_id=docs[0].id).one()
    return soon, late


def test_the_start_page_lists_open_tasks_overdue_first(
    client, auth, people, create_document, draft_of, approve, today
):
    soon, late = _two_tasks(people, create_document, draft_of, approve, today)
    auth.login("staff")
    html = client.get("/").get_data(as_text=True)
    section = html[html.index('class="card reading-tasks"') :]
    section = section[: section.index("</section>")]
    text = page_text_of(section)
    assert "To read and acknowledge" in text
    # Overdue first, each with its document, version and due date, linked to the reading page.
    assert text.index(late.document.number) < text.index(soon.document.number)
    assert f"Due: {late.due_date}" in text and f"Due: {soon.due_date}" in text
    assert text.count("overdue") == 1
    assert (
        f'href="/documents/{late.document_id}/revisions/{late.revision_id}#acknowledge"' in section
    )
    # Somebody with nothing to read is told so; the quality manager sees no one else's tasks.
    auth.logout()
    auth.login("qm")
    assert "Nothing to acknowledge." in page_text(client.get("/"))


def page_text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_reading_page_carries_the_acknowledgement(
    client, auth, people, create_document, draft_of, approve, today
):
    from docmgmt.training.models import TaskState, TrainingTask

    soon, late = _two_tasks(people, create_document, draft_of, approve, today)
    reading = f"/documents/{late.document_id}/revisions/{late.revision_id}"
    auth.login("staff")
    html = client.get(reading).get_data(as_text=True)
    assert 'id="acknowledge"' in html and "I have read and understood this revision." in html
    assert f"sign that you have read and understood it by {late.due_date}" in page_text_of(html)
    action = f'action="/training/tasks/{late.id}/acknowledge"'
    assert action in html

    # The statement not ticked, then a wrong password: back on the reading page, nothing signed.
    post = f"/training/tasks/{late.id}/acknowledge"
    r = client.post(post, data={"password": PASSWORD, "next": reading})
    assert r.status_code == 303 and r.headers["Location"].endswith(reading)
    r = client.post(
        post,
        data={"password": "wrong", "confirm": "y", "next": reading},
        follow_redirects=True,
    )
    assert "The password is wrong" in page_text(r) and 'id="acknowledge"' in r.get_data(True)
    assert db.session.get(TrainingTask, late.id).state == TaskState.OPEN

    # A foreign address in next is not followed.
    r = client.post(
        post, data={"password": "wrong", "confirm": "y", "next": "https://evil.example/"}
    )
    assert r.headers["Location"].endswith(f"/training/tasks/{late.id}")

    # Signed on the reading page: the same operation (the signature hash, the audit trail).
    r = client.post(
        post, data={"password": PASSWORD, "confirm": "y", "next": reading}, follow_redirects=True
    )
    text = page_text(r)
    assert "Signed: you have read and understood" in text
    assert 'id="acknowledge"' not in r.get_data(as_text=True)
    db.session.expire_all()
    done = db.session.get(TrainingTask, late.id)
    assert done.state == TaskState.DONE and done.completed_via == "acknowledged"
    assert len(done.signature_hash) == 64
    # The start page now lists only the other task.
    start = client.get("/").get_data(as_text=True)
    assert late.document.number not in start and soon.document.number in start

    # Others reading the same revision see no signature form (it is not their task).
    auth.logout()
    auth.login("qm")
    assert 'id="acknowledge"' not in client.get(reading).get_data(as_text=True)
