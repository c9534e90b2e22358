"""Scans of real-looking service forms, made here: the test set of text recognition.

A work order (派工单) as a company prints it: a title, a table of fields with the demo's kind
of Chinese text, letters and digits (order number, model, phone), a signature area with a
scribbled "handwritten" name and a red round stamp over it. Rendered with the CJK font
(WenQuanYi Zen Hei) at 150 or 300 dpi, and spoilt as a phone or a cheap scanner would: noise,
a 2° rotation, JPEG compression; two pages as one PDF. ``truth`` is the printed text, line
by line, with the words of the stamp but not the scribble, which no engine is asked to read.

Used by the tests (tests/records/test_ocr.py …) and by ``make bench-ocr``
(benchmarks/bench_ocr.py).
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
A4_MM = (210, 297)
STAMP = "售后服务专用章"


@dataclass
class Scan:
    name: str
    dpi: int
    noisy: bool
    data: bytes  # the file as it would be uploaded
    filename: str
    truth: str  # the printed text, one line per row


def work_order(seed: int = 1, marker: str = "") -> list[tuple[str, str]]:
    """The rows (label, value) of one work order; ``marker`` is a word put in the fault."""
    rnd = random.Random(seed)
    customers = ["陈立华", "王晓梅", "李建国", "张秀英", "刘志强", "赵丽娟"]
    cities = ["宁波市海曙区", "杭州市西湖区", "苏州市姑苏区", "温州市鹿城区"]
    models = ["KFR-35GW/BP2", "BCD-216WMPV", "JSQ25-13UT", "KFR-72LW/A1"]
    faults = [
        "室内机漏水，排水管弯折导致排水不畅",
        "压缩机启动后异响，运行电流偏大",
        "主控板损坏，显示屏报故障代码",
        "冷媒不足，制冷效果差",
    ]
    results = [
        "更换主控板并试机正常，旧件交回仓库",
        "疏通排水管，重新固定室内机，试机两小时无漏水",
        "补充冷媒至标准压力，检查管路无泄漏",
    ]
    fault = rnd.choice(faults) + (f"，{marker}" if marker else "")
    return [
        ("工单编号", f"PG-2026{rnd.randint(1, 12):02d}-{rnd.randint(1, 999999):06d}"),
        ("客户姓名", rnd.choice(customers)),
        ("联系电话", f"138{rnd.randint(10000000, 99999999)}"),
        ("服务地址", rnd.choice(cities) + f"中山路{rnd.randint(1, 300)}号"),
        ("产品型号", rnd.choice(models)),
        ("故障描述", fault),
        ("处理结果", rnd.choice(results)),
        ("到达时间", f"2026年{rnd.randint(1, 12)}月{rnd.randint(1, 28)}日 14时30分"),
        ("服务评价", "非常满意"),
    ]


def render_page(rows, dpi: int, title: str = "售后服务派工单") -> tuple[Image.Image, str]:
    """One A4 page in grey scale: the form, a scribbled signature and a stamp."""
    px = lambda mm: int(round(mm / 25.4 * dpi))  # noqa: E731
    w, h = px(A4_MM[0]), px(A4_MM[1])
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    big = ImageFont.truetype(FONT, px(7))
    body = ImageFont.truetype(FONT, px(4.2))
    lines = [title]
    d.text((w // 2, px(25)), title, font=big, fill="black", anchor="mt")
    left, right, top, row_h, label_w = px(20), w - px(20), px(45), px(14), px(40)
    for i, (label, value) in enumerate(rows):
        y = top + i * row_h
        d.rectangle([left, y, right, y + row_h], outline="black", width=max(1, px(0.3)))
        d.line([left + label_w, y, left + label_w, y + row_h], fill="black", width=max(1, px(0.3)))
        d.text((left + px(3), y + row_h // 2), label, font=body, fill="black", anchor="lm")
        d.text(
            (left + label_w + px(3), y + row_h // 2), value, font=body, fill="black", anchor="lm"
        )
        lines.append(f"{label} {value}")
    y = top + len(rows) * row_h + px(15)
    d.text((left, y), "客户签字：", font=body, fill="black", anchor="lm")
    lines.append("客户签字：")
    # a scribbled "handwritten" name: a wobbly stroke, not text
    rnd = random.Random(dpi)
    x0 = left + px(30)
    pts = [
        (x0 + k * px(1.5), y + int(px(3) * math.sin(k / 2.0)) + rnd.randint(-px(1), px(1)))
        for k in range(30)
    ]
    d.line(pts, fill=(20, 20, 90), width=max(2, px(0.6)))
    # a red round stamp over the signature area
    cx, cy, r = x0 + px(60), y, px(17)
    red = (200, 30, 30)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=red, width=max(2, px(0.8)))
    star = [
        (
            cx + px(5) * (1 if k % 2 == 0 else 0.4) * math.sin(k * math.pi / 5),
            cy - px(3) - px(5) * (1 if k % 2 == 0 else 0.4) * math.cos(k * math.pi / 5),
        )
        for k in range(10)
    ]
    d.polygon(star, fill=red)
    small = ImageFont.truetype(FONT, px(3.2))
    d.text((cx, cy + px(7)), STAMP, font=small, fill=red, anchor="mm")
    lines.append(STAMP)  # printed on the stamp: an engine that reads it is right
    return img, "\n".join(lines)


def spoil(img: Image.Image, seed: int = 7) -> Image.Image:
    """A phone photo or a cheap scan: a 2° turn, blur, noise (then JPEG, when saved)."""
    rnd = random.Random(seed)
    img = img.rotate(2, resample=Image.BICUBIC, expand=True, fillcolor="white")
    img = img.filter(ImageFilter.GaussianBlur(radius=0.6))
    noise = Image.effect_noise(img.size, 40).convert("RGB")
    return Image.blend(img.convert("RGB"), noise, 0.12 + rnd.random() * 0.02)


def _jpeg(img: Image.Image, dpi: int, quality: int) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    return buf.getvalue()


def _png(img: Image.Image, dpi: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def pdf_of(images: list[Image.Image], dpi: int) -> bytes:
    """A scanned PDF: one image per page, no text layer (as a scanner writes it)."""
    buf = io.BytesIO()
    first, *rest = [i.convert("RGB") for i in images]
    first.save(buf, "PDF", resolution=dpi, save_all=True, append_images=rest)
    return buf.getvalue()


def scan(dpi: int = 300, noisy: bool = False, seed: int = 1, marker: str = "") -> Scan:
    img, truth = render_page(work_order(seed, marker), dpi)
    if noisy:
        data = _jpeg(spoil(img, seed), dpi, quality=60)
        name, filename = f"noisy-{dpi}", f"work-order-{seed}.jpg"
    else:
        data = _png(img.convert("L"), dpi)
        name, filename = f"clean-{dpi}", f"work-order-{seed}.png"
    return Scan(name, dpi, noisy, data, filename, truth)


def note(text: str, dpi: int = 150) -> bytes:
    """A photo of one handwritten-size line (a note, a label) as a PNG: a scan that takes well
    under a second to read, for tests that need one but not a whole form."""
    font = ImageFont.truetype(FONT, int(round(5 / 25.4 * dpi)))
    width = int(font.getlength(text)) + 80
    img = Image.new("L", (width, int(font.size * 3)), 255)
    ImageDraw.Draw(img).text((40, img.height // 2), text, font=font, fill=0, anchor="lm")
    return _png(img, dpi)


def two_page_pdf(dpi: int = 200, seed: int = 3, marker: str = "") -> Scan:
    p1, t1 = render_page(work_order(seed), dpi)
    p2, t2 = render_page(work_order(seed + 1, marker), dpi, title="客户满意度回访表")
    data = pdf_of([spoil(p1, seed), spoil(p2, seed + 1)], dpi)
    return Scan(f"pdf-2-pages-{dpi}", dpi, True, data, f"scan-{seed}.pdf", t1 + "\n" + t2)


def test_set() -> list[Scan]:
    """What ``make bench-ocr`` reads: clean and noisy pages at 150 and 300 dpi, a PDF."""
    out = []
    for seed in (1, 2):
        for dpi in (150, 300):
            out.append(scan(dpi, False, seed))
            out.append(scan(dpi, True, seed))
    out.append(two_page_pdf())
    return out


def accuracy(truth: str, got: str) -> float:
    """Character accuracy: 1 − edit distance / length of the truth, white space ignored
    (engines put spaces between Chinese characters, or not)."""
    a = "".join(truth.split())
    b = "".join(got.split())
    if not a:
        return 1.0 if not b else 0.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return max(0.0, 1 - prev[-1] / len(a))
