"""One of the concurrent writers of test_two_processes_write_at_once (run as a script)."""

import sys

from sqlalchemy import select

from docmgmt import create_app
from docmgmt.auth.models import User
from docmgmt.extensions import db
from docmgmt.versioning import documents, drafting

url, storage, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": storage, "TESTING": True})
with app.app_context():
    qm = db.session.scalar(select(User).where(User.username == "qm"))
    for i in range(count):
        doc = documents.create_document(qm, f"并发文件 {tag}{i}", "procedure")
        drafting.create_draft(qm, doc, body=f"# 1\n并发写入测试 标记{tag}{i:02d} 共同词并发")
        db.session.commit()
        if i % 3 == 0:  # and change something already indexed
            rev = doc.revisions[0]
            drafting.update_draft(
                qm, rev, body=f"# 1\n并发写入测试 标记{tag}{i:02d} 修改后 共同词并发"
            )
            db.session.commit()
print("done", tag)
