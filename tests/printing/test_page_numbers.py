"""Every PDF the app prints names its pages the same way: the setting DOCMGMT_PDF_PAGE_NUMBERS
("第 X 页 共 Y 页" by default, the header convention of controlled documents), on every page,
of the true total. Read back with pdftotext (poppler), page by page, as a reader would."""

import os
import re
import shutil
import subprocess

import pytest

from docmgmt.extensions import db


def _pages(data: bytes, tmp_path) -> list[str]:
    if not shutil.which("pdftotext"):
        if os.environ.get("CI"):
            pytest.fail("pdftotext (poppler-utils) is required in CI")
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def _flat(text: str) -> str:
    """pdftotext drops the spaces around Chinese characters (第1页共1页): compare without any."""
    return re.sub(r"\s+", "", text)


def _assert_numbered(pages, label):
    total = len(pages)
    assert total >= 2, "the test needs more than one page"
    for n, page in enumerate(pages, start=1):
        assert _flat(label.format(page=n, pages=total)) in _flat(page), (n, total, page[-300:])
    if "/" not in label:
        assert not re.search(r"\b\d+ / \d+\b", "".join(pages)), "an old 'X / Y' label is left"


@pytest.fixture
def many(people, effective_doc):
    """Enough documents in force, each with enough controlled copies, for several pages."""
    from docmgmt.printing import operations as pops

    revs = []
    for i in range(45):
        _doc, rev = effective_doc(title=f"程序文件第{i}号")
        revs.append(rev)
    for rev in revs[:12]:
        for k in range(4):
            pops.issue_copy(people["qm"], rev, holder_name=f"持有人{k}", medium="paper")
    db.session.commit()
    return revs


URLS = ["/register/master-list.pdf", "/copies/register.pdf", "/api/v1/copies/register.pdf"]


def test_register_pdfs_number_their_pages_like_every_other_pdf(
    app, client, auth, people, many, tmp_path, token_for
):
    """The master list and the distribution and recall register, page and API."""
    auth.login("qm")
    qm = token_for(people["qm"])
    for url in URLS:
        headers = qm if url.startswith("/api") else {}
        pages = _pages(client.get(url, headers=headers).data, tmp_path)
        _assert_numbered(pages, "第 {page} 页 共 {pages} 页")
    # In English too the page label is the company's setting, not the reader's language.
    client.post("/lang/en")
    app.config["PDF_PAGE_NUMBERS"] = "Page {page} of {pages}"
    for url in URLS:
        headers = qm if url.startswith("/api") else {}
        pages = _pages(client.get(url, headers=headers).data, tmp_path)
        _assert_numbered(pages, "Page {page} of {pages}")


def test_a_document_print_uses_the_same_label(client, auth, people, effective_doc, tmp_path):
    """The reference: a document print follows the setting, in its header and its footer."""
    _doc, rev = effective_doc()
    auth.login("qm")
    pages = _pages(client.get(f"/revisions/{rev.id}/print.pdf").data, tmp_path)
    total = len(pages)
    for n, page in enumerate(pages, start=1):
        assert _flat(page).count(_flat(f"第 {n} 页 共 {total} 页")) == 2


def test_the_training_record_and_the_disposal_certificate_number_their_pages_too(
    client, auth, people, token_for, tmp_path, today
):
    """The two PDFs that said "Page 3" (no total) or nothing at all."""
    from datetime import UTC, datetime, timedelta

    from docmgmt.records import operations as rops
    from docmgmt.training import operations as tops
    from tests.conftest import PASSWORD

    for i in range(70):
        tops.record_session(
            people["qm"],
            held_on=today - timedelta(days=i),
            kind="classroom",
            topic=f"上门服务规范第{i}讲",
            trainer_name="陈立华",
            duration_minutes=45,
            attendees=[(people["staff"], "attended", None)],
        )
    db.session.commit()
    auth.login("qm")
    pdf = client.get(f"/training/people/{people['staff'].id}/record.pdf")
    assert pdf.status_code == 200
    _assert_numbered(_pages(pdf.data, tmp_path), "第 {page} 页 共 {pages} 页")

    rt = rops.create_type(
        people["qm"],
        code="WO",
        name="派工单",
        retention_months=36,
        fields=[{"name": "customer", "label": "客户", "kind": "text", "required": True}],
    )
    long_ago = datetime.now(UTC) - timedelta(days=4 * 365)
    ids = [
        rops.file_record(
            people["staff"], rt, title=f"工单{i}", values={"customer": "老客户"}, now=long_ago
        ).id
        for i in range(45)
    ]
    db.session.commit()
    qm = token_for(people["qm"])
    r = client.post(
        "/api/v1/disposals",
        json={"record_ids": ids, "reason": "保存期满", "approver_id": people["approver"].id},
        headers=qm,
    )
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    r = client.post(
        f"/api/v1/disposals/{d['id']}/approve",
        json={"password": PASSWORD},
        headers=token_for(people["approver"]),
    )
    assert r.status_code == 200, r.get_json()
    pdf = client.get(f"/api/v1/disposals/{d['id']}/certificate.pdf", headers=qm)
    pages = _pages(pdf.data, tmp_path)
    pdf.close()  # a stored file
    _assert_numbered(pages, "第 {page} 页 共 {pages} 页")
    assert all(_flat(f"记录销毁证明 {d['number']}") in _flat(p) for p in pages)
