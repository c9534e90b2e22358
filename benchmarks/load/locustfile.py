"""Load: staff read and search, quality managers publish, people file records.

Run by benchmarks/load/run.sh against gunicorn on loopback; every user logs in with a demo
account. Expected conflicts (two managers drafting the same document) answer 409 and are
counted as such, not as errors."""

import random
import re

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
    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        page = self.client.get("/login", name="login page").text
        self.client.post(
            "/login",
            data={"username": "qm", "password": PASSWORD, "csrf_token": _csrf(page)},
            name="log in",
        )

    @task(3)
    def desk(self):
        self.client.get("/desk", name="desk")

    @task(1)
    def draft_and_edit(self):
        doc = random.randint(2, 23)
        page = self.client.get(f"/documents/{doc}", name="document page").text
        token = _csrf(page)
        with self.client.post(
            f"/documents/{doc}/drafts",
            data={"csrf_token": token, "kind": "revision", "change_summary": "负载测试修订"},
            name="start a draft",
            catch_response=True,
            allow_redirects=False,
        ) as r:
            if r.status_code in (303, 302, 409, 200):
                r.success()  # 409: a draft is already open (an expected conflict)
            else:
                r.failure(f"status {r.status_code}")
