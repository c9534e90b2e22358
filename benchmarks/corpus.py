"""A reproducible corpus for the search benchmark: procedure revisions and service records.

Revision bodies are sentences drawn from the demo's 22 procedures and manual (the product's
own text), shuffled into 2,000-6,000 characters; service records are filled-in templates with
the vocabulary of real after-sales records: customers, products, faults, work order numbers,
response times, return visits, complaints.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

CONTENT = Path(__file__).resolve().parent.parent / "docmgmt" / "demo" / "content"

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
PRODUCTS = [
    "空调",
    "冰箱",
    "洗衣机",
    "热水器",
    "售货机",
    "净水器",
    "油烟机",
    "燃气灶",
    "电视机",
    "空气能热泵",
    "商用冷柜",
    "自动售货机",
]
FAULTS = [
    "不制冷",
    "漏水",
    "异响",
    "无法开机",
    "显示故障代码E4",
    "遥控失灵",
    "压缩机不启动",
    "出水温度不稳",
    "投币口卡币",
    "扫码支付失败",
    "门封老化",
    "排水不畅",
]
ACTIONS = [
    "更换压缩机电容",
    "清洗过滤网",
    "更换主控板",
    "补充冷媒",
    "调整门封",
    "疏通排水管",
    "更换投币器",
    "升级控制程序",
    "紧固电源接线",
    "更换温度传感器",
]
CITIES = ["杭州", "宁波", "温州", "绍兴", "嘉兴", "湖州", "金华", "台州"]
TYPES = [
    ("WO", "派工单"),
    ("RV", "回访记录"),
    ("CP", "客户投诉记录"),
    ("SS", "满意度调查"),
    ("PL", "电话派工记录"),
    ("QF", "质量问题反馈单"),
]
DEPTS = ["AS", "ADM", "QA", "ENG", "PRD", "PUR"]
STATES = ["effective", "superseded", "draft", "in_review", "obsolete"]


def _sentences() -> list[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CONTENT.glob("*.md")))
    text = re.sub(r"[#>*|`\-]+", " ", text)
    parts = re.split(r"(?<=[。；！？])", text)
    return [p.strip() for p in parts if len(p.strip()) >= 12]


def revisions(n: int, seed: int = 7):
    rnd = random.Random(seed)
    sents = _sentences()
    for i in range(n):
        target = rnd.randint(2000, 6000)
        body, size = [], 0
        while size < target:
            s = rnd.choice(sents)
            body.append(s)
            size += len(s)
        doc = i // 5 + 1
        yield {
            "key": f"rev:{i + 1}",
            "group": f"doc:{doc}",
            "number": f"XX-SP-{doc:03d}" if doc > 22 else f"XX-SP-{doc:02d}",
            "version": f"A{i % 5}",
            "title": rnd.choice(sents)[:24],
            "body": "".join(body),
            "summary": rnd.choice(
                ["首次发布", "修订响应时限", "增加回访要求", "依据 GB/T 27922-2011 修订"]
            ),
            "state": STATES[0] if i % 5 == 4 else rnd.choice(STATES[1:]),
            "department": rnd.choice(DEPTS),
            "day": 20200101 + (i % 6) * 10000 + rnd.randint(1, 12) * 100 + rnd.randint(1, 28),
        }


def records(n: int, seed: int = 11):
    rnd = random.Random(seed)
    sents = [s for s in _sentences() if len(s) <= 120]
    for i in range(n):
        code, name = rnd.choice(TYPES)
        year = rnd.randint(2021, 2026)
        month, day = rnd.randint(1, 12), rnd.randint(1, 28)
        cust = rnd.choice(SURNAMES) + rnd.choice(["先生", "女士", "经理"])
        prod, fault, act = rnd.choice(PRODUCTS), rnd.choice(FAULTS), rnd.choice(ACTIONS)
        city = rnd.choice(CITIES)
        tech = rnd.choice(SURNAMES) + rnd.choice(["工", "师傅"])
        wo = f"PG-{year}{month:02d}-{i:06d}"
        hours = rnd.choice([0.5, 1, 2, 3, 4, 6])
        bits = [
            f"{year}年{month}月{day}日，{city}客户{cust}来电反映{prod}{fault}。",
            f"客服中心登记后开具{name}，派工单号{wo}，派{tech}上门处理。",
            f"技术员于{hours}小时内到达现场，检查后{act}，故障排除，试机正常。",
            rnd.choice(
                [
                    "当日回访，客户对服务表示满意。",
                    "客户对响应时间不满意，转客户投诉处理。",
                    "回访时客户反映仍有轻微异响，安排二次上门。",
                    "收取配件费用并开具发票，客户签字确认。",
                    "属供方责任，填写供方责任处置、反馈单。",
                    "按 GB/T 27922 要求记录服务过程。",
                ]
            ),
        ]
        if rnd.random() < 0.5:
            bits.append(
                f"备件：{act[2:] if len(act) > 2 else act}一件，领用单号 BJ-{i:06d}，旧件交回仓库。"
            )
        for _ in range(rnd.choice([0, 0, 1, 1, 2, 3, 4])):
            bits.append(rnd.choice(sents))
        if rnd.random() < 0.3:
            bits.append("满意度评分：" + rnd.choice(["非常满意", "满意", "一般", "不满意"]) + "。")
        yield {
            "key": f"rec:{i + 1}",
            "group": f"rec:{i + 1}",
            "number": wo,
            "title": f"{name} {cust} {prod}{fault}",
            "body": "".join(bits),
            "type": code,
            "department": "AS",
            "day": year * 10000 + month * 100 + day,
        }


def search_entries(n_revisions: int, n_records: int):
    """The corpus as search-index entries, as `search reindex` would write them: revisions,
    then records newest first (a rebuild writes the newest first, so the ranking window holds
    them; see docmgmt/search/sources.py)."""
    from docmgmt.search.engine import Entry

    for r in revisions(n_revisions):
        yield Entry(
            key=r["key"],
            kind="revision",
            group=r["group"],
            number=r["number"],
            title=r["title"],
            content=f"{r['number']} {r['version']} {r['title']}\n{r['summary']}\n{r['body']}",
            doc_type="procedure",
            department=r["department"],
            state=r["state"],
            audience="all" if r["state"] == "effective" else "history",
            day=r["day"],
            meta={"version": r["version"]},
        )
    for r in sorted(records(n_records), key=lambda r: r["day"], reverse=True):
        yield Entry(
            key=r["key"],
            kind="record",
            group=r["group"],
            number=r["number"],
            title=r["title"],
            content=f"{r['number']} {r['title']}\n{r['body']}",
            doc_type=r["type"],
            department=r["department"],
            state="filed",
            day=r["day"],
        )
