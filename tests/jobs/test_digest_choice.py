"""The third mail choice (issue 18): "in the daily digest". A notice of a kind a person chose to
hear of in the digest is kept (in their language) instead of mailed, goes into their next digest
mail after the other sections, and is gone once mailed: a second run sends it to nobody."""

from datetime import timedelta

from sqlalchemy import func, select

from docmgmt.extensions import db
from tests.control.test_mail import BASE, body, mailbox  # noqa: F401  (the fixture)


def _pending(user_id=None) -> int:
    from docmgmt.notify import PendingNotice

    q = select(func.count()).select_from(PendingNotice)
    if user_id is not None:
        q = q.where(PendingNotice.user_id == user_id)
    return db.session.scalar(q)


def test_a_person_who_chose_the_digest_for_publications_hears_of_one_there_once(
    client,
    people,
    create_user,
    token_for,
    effective_doc,
    approve,
    mailbox,  # noqa: F811
    today,
):
    from docmgmt.clock import utcnow
    from docmgmt.control import operations as ops
    from docmgmt.jobs.daily import submit_daily
    from docmgmt.jobs.digest import send_digests
    from docmgmt.versioning import publishing

    tech = create_user("tech", ["staff"], "孙强", email="tech@example.com")
    headers = token_for(tech)
    r = client.put(
        "/api/v1/me/notifications", headers=headers, json={"notifications": {"published": "digest"}}
    )
    assert r.status_code == 200, r.get_json()
    assert "digest" in r.get_json()["deliveries"]
    got = {n["event"]: n["delivery"] for n in r.get_json()["notifications"]}
    assert got["published"] == "digest" and got["request_decided"] == "now"
    doc, a0 = effective_doc()
    a0.effective_date = today - timedelta(days=10)
    cr = ops.create_request(tech, doc, reason="r", proposed_change="增加到场时间")
    draft = ops.accept_request(people["qm"], cr)
    db.session.commit()
    assert len(mailbox.to("tech@example.com")) == 1  # the decision: still at once
    mailbox.clear()
    approve(draft)
    publishing.publish_revision(people["qm"], draft, today)
    db.session.commit()
    assert mailbox.to("tech@example.com") == []  # kept for the digest, not mailed
    assert _pending(tech.id) == 1

    morning = utcnow().replace(hour=1)  # 09:00 in Shanghai: after the digest hour
    submit_daily(now=morning, only="digest")
    [digest] = mailbox.to("tech@example.com")
    assert "What waits for you" in str(digest["Subject"])
    text = body(digest)
    assert "Other notices since the last digest" in text
    assert f"{doc.number} A1 is published" in text and "增加到场时间" in text
    assert f"{BASE}/documents/{doc.id}/revisions/{draft.id}" in text
    assert _pending(tech.id) == 0

    # Asked again today, and the next day's run: the notice is not sent a second time.
    mailbox.clear()
    submit_daily(now=morning, only="digest")
    send_digests(today + timedelta(days=1))
    db.session.commit()
    assert all("is published" not in body(m) for m in mailbox.to("tech@example.com"))


def test_a_digest_notice_is_kept_in_the_recipients_language_and_dropped_on_rollback(
    people,
    effective_doc,
    approve,
    draft_of,
    create_user,
    mailbox,  # noqa: F811
    today,
):
    from docmgmt import notify
    from docmgmt.notify import PendingNotice

    tech = create_user("tech", ["staff"], "孙强", email="tech@example.com")
    tech.locale = "zh_CN"
    notify.set_preferences(tech, tech, {"published": "digest"})
    db.session.commit()
    notify.notify(tech, "published", lambda: notify._("Mail settings saved."), "正文")
    db.session.rollback()
    assert _pending() == 0
    notify.notify(tech, "published", lambda: notify._("Mail settings saved."), "正文")
    db.session.commit()
    [kept] = db.session.scalars(select(PendingNotice)).all()
    assert kept.subject == "邮件设置已保存。" and kept.body == "正文" and kept.link is None


def test_refused_choices_are_still_refused(client, auth, people, token_for):
    headers = token_for(people["staff"])
    for choice, words in (
        ({"signature": "digest"}, "always mailed"),
        ({"published": "weekly"}, "daily digest"),
    ):
        r = client.put("/api/v1/me/notifications", headers=headers, json={"notifications": choice})
        assert r.status_code == 422 and words in r.get_json()["message"], r.get_json()
    r = client.get("/api/v1/me/notifications", headers=headers)
    got = {n["event"]: n["delivery"] for n in r.get_json()["notifications"]}
    assert got["signature"] == "now" and got["published"] == "now"
    # The profile page offers the third choice, in Chinese without codes.
    auth.login("staff")
    client.post("/lang/zh_CN")
    html = client.get("/profile").get_data(as_text=True)
    assert "每日汇总" in html and ">digest<" not in html
    client.post("/profile/notifications", data={"published": "digest"})
    r = client.get("/api/v1/me/notifications", headers=headers)
    got = {n["event"]: n["delivery"] for n in r.get_json()["notifications"]}
    assert got["published"] == "digest"
