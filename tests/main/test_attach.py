"""One way to keep an uploaded file: storage.attach (check -> put -> row -> audit).

The behaviour of each channel (refusals, rows, trail entries) is tested in test_uploads.py and
the feature tests; this keeps the channels from growing their own copies again."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "docmgmt"


def test_attachment_rows_are_only_made_by_storage_attach():
    makers = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
                if name.endswith("Attachment"):
                    makers.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {name}(...)")
    assert not makers, "make attachment rows with storage.attach():\n" + "\n".join(makers)
