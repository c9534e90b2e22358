"""A revision's page renders its body and outline once per content: remembered under the hash
of the blocks (and image addresses), never under the revision's id, so an edited draft shows
its new body at once and frozen content is never rendered twice by one process."""

import pytest

from docmgmt.extensions import db
from docmgmt.versioning import content


@pytest.fixture
def renders(monkeypatch):
    """Counts the real renderings of whole bodies and outlines."""
    content._renderings.clear()
    calls = {"html": 0, "outline": 0}
    html, outline = content.blocks_to_html, content.outline

    def counted_html(*a, **kw):
        calls["html"] += 1
        return html(*a, **kw)

    def counted_outline(*a, **kw):
        calls["outline"] += 1
        return outline(*a, **kw)

    monkeypatch.setattr(content, "blocks_to_html", counted_html)
    monkeypatch.setattr(content, "outline", counted_outline)
    yield calls
    content._renderings.clear()


def _page(client, rev) -> str:
    r = client.get(f"/documents/{rev.document_id}/revisions/{rev.id}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_a_revision_in_force_is_rendered_once_for_many_views(client, auth, effective_doc, renders):
    _doc, rev = effective_doc()
    auth.login("qm")
    first = _page(client, rev)
    for _ in range(3):
        assert _page(client, rev) == first
    assert renders == {"html": 1, "outline": 1}
    assert 'id="sec-1"' in first and "规范报修、派工和上门维修" in first


def test_an_edited_draft_shows_its_new_body_and_outline_at_once(
    client, auth, people, create_document, draft_of, renders
):
    from docmgmt.versioning import drafting

    rev = draft_of(create_document())
    auth.login("qm")
    assert "规范报修、派工和上门维修" in _page(client, rev)
    drafting.update_draft(people["qm"], rev, body="# 9 新的章节\n补充派工时限：10分钟内联系客户。")
    db.session.commit()
    page = _page(client, rev)
    assert "补充派工时限" in page and "新的章节" in page
    assert "规范报修、派工和上门维修" not in page
    assert renders["html"] == 2
    # Back to the first text: the same content, the same rendering, right again.
    drafting.update_draft(people["qm"], rev, body="# 1 目的\n规范报修、派工和上门维修。")
    db.session.commit()
    page = _page(client, rev)
    assert "规范报修、派工和上门维修" in page and "补充派工时限" not in page


def test_the_same_blocks_with_other_image_addresses_render_apart():
    content._renderings.clear()
    blocks = [
        {"type": "heading", "level": 1, "text": "1 目的"},
        {"type": "image", "sha256": "ab" * 32, "name": "图1"},
    ]
    one = content.rendered_body(blocks, image_url=lambda sha: f"/revisions/1/images/{sha}")
    two = content.rendered_body(blocks, image_url=lambda sha: f"/revisions/2/images/{sha}")
    assert "/revisions/1/images/" in one and "/revisions/2/images/" in two
    assert content.rendered_body(blocks, image_url=lambda sha: f"/revisions/1/images/{sha}") == one
    content._renderings.clear()


def test_the_remembered_renderings_are_bounded():
    cache = content._Renderings(max_chars=100)
    for i in range(10):
        cache.put(f"k{i}", "x" * 30, 30)
    assert cache.chars <= 100 and len(cache.items) == 3
    assert cache.get("k0") is None and cache.get("k9") is not None
    cache.put("huge", "x" * 1000, 1000)
    assert cache.get("huge") is None
