"""Controlled copies on paper: PDFs read back, the register, the QR verification, recalls."""

import os
import re
import shutil
import subprocess
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from docmgmt.extensions import db
from docmgmt.printing.models import ControlledCopy, CopyState
from tests.conftest import page_text

LONG_BODY = "\n\n".join(
    [
        f"# {n} 工作程序第{n}部分\n"
        + "\n\n".join(["调度员接到报修后开具派工单，技术员上门维修并请顾客签字确认。" * 4] * 6)
        for n in range(1, 9)
    ]
)


def _text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(data))
    return reader, "\n".join(p.extract_text() for p in reader.pages)


def _embedded_truetype(reader: PdfReader) -> bool:
    seen = 0
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type1":
                continue  # the canvas's initial Helvetica, used by no text
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            if "/FontFile2" not in descriptor:
                return False
            seen += 1
    return seen > 0


@pytest.fixture
def in_force(effective_doc, create_document, draft_of, approve, people):
    from datetime import timedelta

    from docmgmt.clock import local_today, utcnow
    from docmgmt.versioning import publishing

    doc = create_document(title="报修、送修和上门维修服务控制程序")
    rev = approve(draft_of(doc, body=LONG_BODY))
    # In force since ten days ago, so a new revision can take effect today.
    publishing.publish_revision(
        people["qm"], rev, local_today() - timedelta(10), now=utcnow() - timedelta(10)
    )
    db.session.commit()
    return doc, rev


def test_a_controlled_copy_pdf_names_its_copy_holder_and_is_numbered_x_of_y(
    client, auth, people, in_force
):
    doc, rev = in_force
    auth.login("qm")
    r = client.post(
        f"/revisions/{rev.id}/copies",
        data={
            "holder_id": people["staff"].id,
            "holder_name": "",
            "department_id": 0,
            "medium": "paper",
        },
    )
    assert r.status_code == 303
    copy = db.session.scalar(select(ControlledCopy))
    assert copy.copy_no == 1 and copy.holder_name == "赵敏"
    pdf = client.get(f"/copies/{copy.id}/copy.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader, text = _text(pdf.data)
    assert doc.number in text and "A0" in text
    assert copy.label in text and "赵敏" in text and "受控文件" in text
    total = len(reader.pages)
    assert total >= 3
    for n, page in enumerate(reader.pages, start=1):
        assert f"第 {n} 页 共 {total} 页" in page.extract_text()
    assert _embedded_truetype(reader)
    # The signature manifestation and the revision record are printed.
    assert "制订" in text and "审核" in text and "核准" in text and "文件制修订记录" in text
    assert "李明" in text and "刘洋" in text and "陈静" in text


def test_uncontrolled_and_obsolete_prints_say_so(client, auth, people, in_force, draft_of, approve):
    from docmgmt.clock import local_today
    from docmgmt.versioning import publishing

    doc, a0 = in_force
    auth.login("staff")
    _r, text = _text(client.get(f"/revisions/{a0.id}/print.pdf").data)
    assert "非受控" in text and "赵敏" in text  # who printed it
    a1 = approve(draft_of(doc, body="# 1 目的\n新版本。", change_summary="改写目的"))
    publishing.publish_revision(people["qm"], a1, local_today())
    db.session.commit()
    # Superseded: staff may no longer print A0; the quality manager gets it stamped 作废.
    assert client.get(f"/revisions/{a0.id}/print.pdf").status_code in (403, 404)
    auth.logout()
    auth.login("qm")
    _r, text = _text(client.get(f"/revisions/{a0.id}/print.pdf?mode=uncontrolled").data)
    assert "作废" in text and "非受控" not in text


def test_pdf_page_one_renders_with_ink(client, auth, people, in_force, tmp_path):
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI"):
            pytest.fail("pdftoppm (poppler-utils) is required in CI")
        pytest.skip("pdftoppm not installed")
    from PIL import Image

    _doc, rev = in_force
    auth.login("qm")
    client.post(
        f"/revisions/{rev.id}/copies",
        data={
            "holder_name": "售后服务部资料柜",
            "medium": "paper",
            "holder_id": 0,
            "department_id": 0,
        },
    )
    copy = db.session.scalar(select(ControlledCopy))
    pdf = tmp_path / "copy.pdf"
    pdf.write_bytes(client.get(f"/copies/{copy.id}/copy.pdf").data)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    page = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    dark = sum(page.histogram()[:128])
    assert dark > page.width * page.height * 0.01  # text, boxes and the header are drawn
    artifacts = os.environ.get("TEST_ARTIFACTS")
    if artifacts:
        page.save(os.path.join(artifacts, "controlled-copy-page1.png"))
        shutil.copy(pdf, os.path.join(artifacts, "controlled-copy.pdf"))


def test_the_qr_code_opens_a_status_page_that_shows_no_content(client, auth, people, in_force):
    doc, rev = in_force
    auth.login("qm")
    client.post(
        f"/revisions/{rev.id}/copies",
        data={"holder_name": "维修站", "medium": "paper", "holder_id": 0, "department_id": 0},
    )
    copy = db.session.scalar(select(ControlledCopy))
    _r, text = _text(client.get(f"/copies/{copy.id}/copy.pdf").data)
    auth.logout()
    # The QR encodes the verification URL; the page needs no log-in and shows status only.
    url = f"/copies/verify/{copy.token}"
    r = client.get(url)
    assert r.status_code == 200
    assert 'data-verdict="valid"' in r.get_data(as_text=True)
    assert "调度员接到报修" not in page_text(r)
    assert client.get("/copies/verify/not-a-real-token").status_code == 404


def test_superseding_lists_copies_for_recall_and_the_recall_is_recorded(
    client, auth, people, in_force, draft_of, approve, token_for
):
    from docmgmt.clock import local_today
    from docmgmt.versioning import publishing

    doc, a0 = in_force
    qm = token_for(people["qm"])
    for holder in ("售后服务部", "维修站一", "维修站二"):
        r = client.post(
            f"/api/v1/revisions/{a0.id}/copies", headers=qm, json={"holder_name": holder}
        )
        assert r.status_code == 201
    assert client.get("/api/v1/copies?due=true", headers=qm).get_json() == []
    a1 = approve(draft_of(doc, body="# 1 目的\n新版本。", change_summary="改写目的"))
    publishing.publish_revision(people["qm"], a1, local_today())
    db.session.commit()
    due = client.get("/api/v1/copies?due=true", headers=qm).get_json()
    assert sorted(c["holder_name"] for c in due) == ["售后服务部", "维修站一", "维修站二"]
    # The verification page now says the copy is not valid.
    copy = db.session.scalar(select(ControlledCopy).order_by(ControlledCopy.id))
    assert 'data-verdict="superseded"' in client.get(f"/copies/verify/{copy.token}").get_data(
        as_text=True
    )
    # The desk lists them; the quality manager records one return and one loss.
    auth.login("qm")
    assert copy.label in page_text(client.get("/desk"))
    r = client.post(f"/api/v1/copies/{due[0]['id']}/lost", headers=qm, json={"note": ""})
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/copies/{due[0]['id']}/lost", headers=qm, json={"note": "维修站搬迁时遗失"}
    )
    assert r.status_code == 200 and r.get_json()["state"] == "lost"
    r = client.post(f"/copies/{due[1]['id']}/recall", data={"note": ""})
    assert r.status_code == 303
    left = client.get("/api/v1/copies?due=true", headers=qm).get_json()
    assert [c["id"] for c in left] == [due[2]["id"]]
    assert db.session.get(ControlledCopy, due[1]["id"]).state == CopyState.RECALLED
    # A recalled copy is not printed as controlled any more; its QR says so.
    assert client.get(f"/copies/{due[1]['id']}/copy.pdf").status_code == 409
    recalled = db.session.get(ControlledCopy, due[1]["id"])
    assert 'data-verdict="recalled"' in client.get(f"/copies/verify/{recalled.token}").get_data(
        as_text=True
    )
    # The register prints.
    reader, text = _text(client.get("/copies/register.pdf").data)
    words = " ".join(text.split())
    assert "Distribution and recall register" in words and "Copy number" in words
    assert "Paper" in words.split()  # English breaks between words only
    assert "维修站搬迁时遗失" in text and "第 1 页 共 1 页" in text
    client.post("/lang/zh_CN")  # in the reader's language
    reader, text = _text(client.get("/copies/register.pdf").data)
    assert "文件发放回收记录" in text and "副本号" in text and "维修站搬迁时遗失" in text


def test_withdrawal_makes_copies_due_and_only_effective_revisions_are_issued(
    client, people, in_force, draft_of, create_document, token_for
):
    from docmgmt.control import operations as cops
    from tests.conftest import PASSWORD

    doc, a0 = in_force
    qm = token_for(people["qm"])
    client.post(f"/api/v1/revisions/{a0.id}/copies", headers=qm, json={"holder_name": "档案室"})
    draft = draft_of(create_document(title="草稿程序"))
    r = client.post(f"/api/v1/revisions/{draft.id}/copies", headers=qm, json={"holder_name": "x"})
    assert r.status_code in (404, 409)
    r = client.post(f"/api/v1/revisions/{a0.id}/copies", headers=qm, json={"holder_name": ""})
    assert r.status_code == 422 and r.get_json()["field"] == "holder_name"
    staff = token_for(people["staff"])
    r = client.post(f"/api/v1/revisions/{a0.id}/copies", headers=staff, json={"holder_name": "我"})
    assert r.status_code == 403
    wd = cops.propose_withdrawal(people["qm"], doc, "合并到新程序", people["approver"])
    cops.decide_withdrawal(people["approver"], wd, approve=True, password=PASSWORD)
    db.session.commit()
    due = client.get("/api/v1/copies?due=true", headers=qm).get_json()
    assert [c["holder_name"] for c in due] == ["档案室"]


def test_without_a_chinese_font_the_app_says_so(app, client, auth, people, in_force, tmp_path):
    doc, rev = in_force
    app.config["CJK_FONT_PATH"] = str(tmp_path / "missing.ttc")
    auth.login("qm")
    r = client.get(f"/revisions/{rev.id}/print.pdf")
    assert r.status_code == 503 and "fonts-wqy-zenhei" in page_text(r)
    assert re.search(r"DOCMGMT_CJK_FONT", page_text(r))
