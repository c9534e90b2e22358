"""Document control in detail (issue 23): what staff are shown, what is never cut, the desk,
the refusals, the surveillance schedule and the register."""

from sqlalchemy import func, select

from docmgmt.extensions import db
from tests.conftest import page_text


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_staff_see_related_documents_on_the_reading_page_with_the_version_in_force(
    client, auth, people, effective_doc, create_document
):
    from docmgmt.control import operations as ops

    proc, a0 = effective_doc(title="报修控制程序")
    form, form_a0 = effective_doc(title="派工单", doc_type="record_form")
    draft_only = create_document(title="尚未发布的标准", doc_type="procedure")
    ops.add_link(people["qm"], proc, form, "uses_form")
    ops.add_link(people["qm"], proc, draft_only, "refers_to")
    db.session.commit()
    auth.login("staff")
    r = client.get(f"/documents/{proc.id}/revisions/{a0.id}")
    html = r.get_data(as_text=True)
    text = page_text(r)
    assert "Related documents" in text
    assert form.number in text and "in force: A0" in text
    # The link opens the version in force directly: staff cannot open the document page.
    assert f'href="/documents/{form.id}/revisions/{form_a0.id}"' in html
    assert client.get(f"/documents/{form.id}/revisions/{form_a0.id}").status_code == 200
    # A document with nothing in force is not offered to staff (they could not open it).
    assert draft_only.number not in text
    auth.logout()
    auth.login("qm")
    text = page_text(client.get(f"/documents/{proc.id}/revisions/{a0.id}"))
    assert draft_only.number in text and "no version in force" in text
