"""Load: staff read and search, quality managers publish, people file records.

Run by benchmarks/load/run.sh against gunicorn on loopback; every user logs in with a demo
account. Expected conflicts (two managers drafting the same document) answer 409 and are
counted as such, not as errors."""

import datetime
import os
import random
import re
from zoneinfo import ZoneInfo

from locust import HttpUser, between, task

PASSWORD = "demo-pass-1"
WORDS = ["派工", "回访", "投诉", "培训", "维修", "XX-SP-04", "GB/T 27922", "客户", "备件"]


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    return m.group(1) if m else ""


class Staff(HttpUser):
    weight = 6
    wait_time = between(0.5, 2)

    def on_start(self):
        page = self.client.get("/login", name="login page").text
        self.client.post(
            "/login",
            data={
                "username": random.choice(["tech", "dispatcher"]),
                "password": PASSWORD,
                "csrf_token": _csrf(page),
            },
            name="log in",
        )

    @task(4)
    def register(self):
        self.client.get("/documents/", name="register")

    @task(4)
    def read_procedure(self):
        self.client.get(f"/documents/{random.randint(2, 23)}", name="read a document")

    @task(5)
    def search(self):
        self.client.get("/search/", params={"q": random.choice(WORDS)}, name="search")

    @task(1)
    def my_training(self):
        self.client.get("/training/", name="my training")

    @task(2)
    def bare(self):
        # The floor: the session's user read and a minimal template rendered (main.ping).
        self.client.get("/ping", name="bare (one row + template)")


class Filer(HttpUser):
    weight = 2
    wait_time = between(1, 3)

    def on_start(self):
        page = self.client.get("/login", name="login page").text
        self.client.post(
            "/login",
            data={"username": "dispatcher", "password": PASSWORD, "csrf_token": _csrf(page)},
            name="log in",
        )
        self.type_id = None

    @task
    def file_record(self):
        if self.type_id is None:  # the demo's 回访记录 (RV): customer and satisfied
            html = self.client.get("/records/types", name="record types").text
            m = re.search(r"<td>RV</td>.*?/records/new/(\d+)", html, re.S)
            self.type_id = int(m.group(1)) if m else 1
        page = self.client.get(f"/records/new/{self.type_id}", name="filing form").text
        with self.client.post(
            f"/records/new/{self.type_id}",
            data={
                "csrf_token": _csrf(page),
                "title": f"回访 {random.randint(1, 10**6)}",
                "f_customer": "负载测试客户",
                "f_satisfied": "满意",
            },
            name="file a record",
            catch_response=True,
            allow_redirects=False,
        ) as r:
            if r.status_code != 303:
                r.failure(f"status {r.status_code}")


class QualityManager(HttpUser):
    """Drafts and publishes through the JSON API with the signers' tokens (LOAD_TOKEN_QM,
    LOAD_TOKEN_ASHEAD, LOAD_TOKEN_MR, made by run.sh). Each step moves one procedure's open
    revision on by one: start a draft, submit (制订), review (审核), approve (核准), publish
    effective today. Two managers stepping the same revision at once: the second gets 409."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        page = self.client.get("/login", name="login page").text
        self.client.post(
            "/login",
            data={"username": "qm", "password": PASSWORD, "csrf_token": _csrf(page)},
            name="log in",
        )
        self.auth = {
            who: {"Authorization": f"Bearer {os.environ[f'LOAD_TOKEN_{who.upper()}']}"}
            for who in ("qm", "ashead", "mr")
        }
        self.ids = {
            who: self.client.get("/api/v1/me", headers=h, name="API: me").json()["id"]
            for who, h in self.auth.items()
        }

    @task(1)
    def desk(self):
        self.client.get("/desk", name="desk")

    def _api(self, method, url, who, name, **kw):
        with self.client.request(
            method, url, headers=self.auth[who], name=name, catch_response=True, **kw
        ) as r:
            if r.status_code == 409:
                r.success()  # somebody else moved this revision first: an expected conflict
            elif r.status_code >= 400:
                r.failure(f"status {r.status_code}: {r.text[:200]}")
            return r

    @task(3)
    def publishing_step(self):
        # A manager stays with one procedure (reviewed by ashead, approved by mr) until its
        # revision is published, then takes another at random.
        doc = getattr(self, "doc", None) or random.randint(2, 23)
        self.doc = doc
        revs = self.client.get(
            f"/api/v1/documents/{doc}/revisions", headers=self.auth["qm"], name="API: revisions"
        ).json()
        open_ = [r for r in revs if r["state"] in ("draft", "in_review", "approved")]
        if not open_:
            self._api(
                "POST",
                f"/api/v1/documents/{doc}/revisions",
                "qm",
                "API: start a draft",
                json={"change_summary": "负载测试修订", "body_markdown": "# 目的\n\n负载测试。"},
            )
            return
        rev = open_[0]
        url = f"/api/v1/revisions/{rev['id']}"
        if rev["state"] == "draft":
            body = {"reviewer_id": self.ids["ashead"], "approver_id": self.ids["mr"]}
            self._api(
                "POST",
                f"{url}/submit",
                "qm",
                "API: submit (制订)",
                json=body | {"password": PASSWORD},
            )
        elif rev["state"] == "approved":
            tz = ZoneInfo(os.environ.get("DOCMGMT_TIMEZONE", "Asia/Shanghai"))
            today = datetime.datetime.now(tz).date().isoformat()  # the company's today
            self._api(
                "POST", f"{url}/publish", "qm", "API: publish", json={"effective_date": today}
            )
            self.doc = None
        else:
            full = self.client.get(url, headers=self.auth["qm"], name="API: revision").json()
            this_round = max(s["submission_round"] for s in full["signatures"])
            signed = {
                s["meaning"] for s in full["signatures"] if s["submission_round"] == this_round
            }
            who, meaning = ("mr", "approved") if "reviewed" in signed else ("ashead", "reviewed")
            self._api(
                "POST",
                f"{url}/sign",
                who,
                f"API: sign ({meaning})",
                json={"meaning": meaning, "password": PASSWORD},
            )
