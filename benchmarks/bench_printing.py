"""Benchmark: a 16-page procedure as a controlled-copy PDF, and the import of a 16-page .docx.

    .venv/bin/python benchmarks/bench_printing.py [--runs 15]

Builds a procedure of realistic Chinese text (headings, paragraphs, lists, a table per
section), checks the PDF really has 16 pages, times the ReportLab controlled copy (two passes
for "page X / Y", QR code, watermark) and the import of the same content as .docx, and, when
LibreOffice is installed (Debian: libreoffice-writer-nogui), converting that .docx to PDF with
``soffice --headless`` in the same run.  Prints medians and the ratio.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SENTENCES = [
    "客服人员接到顾客报修电话后，应在电话派工记录中登记顾客姓名、地址、产品型号和故障现象。",
    "调度员根据维修网点分布和技术人员技能开具派工单，城区用户应在1小时内响应，24小时内上门。",
    "技术人员上门前应与顾客预约时间，到达现场后出示服务证件，穿戴鞋套，保持现场整洁。",
    "维修完成后，技术人员应向顾客说明故障原因和维修内容，请顾客在服务处理单上签字确认。",
    "售后服务部每月统计一次派工及时率、一次修复率和顾客满意度，并在管理评审中报告。",
]


def procedure_blocks(sections: int = 10) -> list[dict]:
    blocks = []
    for s in range(1, sections + 1):
        blocks.append({"type": "heading", "level": 1, "text": f"{s} 工作程序第{s}部分"})
        for p in range(6):
            blocks.append(
                {
                    "type": "paragraph",
                    "text": "".join(SENTENCES[(s + p) % 5 :] + SENTENCES[: (s + p) % 5]),
                }
            )
        blocks.append({"type": "list", "ordered": True, "items": SENTENCES[:4]})
        blocks.append(
            {
                "type": "table",
                "header": ["记录编号", "记录名称", "保存部门", "保存期限"],
                "rows": [[f"XX-SR-{s:02d}{r}", "派工单", "售后服务部", "3年"] for r in range(4)],
            }
        )
    return blocks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--sections", type=int, default=14)  # 16 pages
    args = ap.parse_args()

    from pypdf import PdfReader

    from docmgmt import create_app
    from docmgmt.printing import docx_in, docx_out, pdf

    app = create_app(
        {
            "ENV_NAME": "development",  # a local run with the development key
            "SERVER_NAME": "docmgmt.example",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    blocks = procedure_blocks(args.sections)
    record = [[1, "2022-02-21", "-", "新制订", "A0", "全部", "陈立华", "刘洋", "王建平"]]
    signatures = [
        ("制订", "陈立华", "2022-02-10 09:00", "制订 prepared"),
        ("审核", "刘洋", "2022-02-14 10:30", "审核 reviewed"),
        ("核准", "王建平", "2022-02-18 15:00", "核准 approved"),
    ]
    with app.app_context(), app.test_request_context():
        job = pdf.PrintJob(
            company="示例电器服务有限公司",
            number="XX-SP-04",
            title="报修、送修和上门维修服务控制程序",
            version="A1",
            effective_date="2023-06-12",
            blocks=blocks,
            signatures=signatures,
            record=record,
            mode=pdf.MODE_CONTROLLED,
            copy_label="XX-SP-04-A1-001",
            holder="售后服务部",
            department="售后服务部",
            issued_on="2023-06-12",
            verify_url="https://docmgmt.example/copies/verify/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        )
        data = pdf.render(job)  # warm-up: font registration
        pages = len(PdfReader(BytesIO(data)).pages)
        pdf_times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            pdf.render(job)
            pdf_times.append(time.perf_counter() - t0)

        class Rev:  # what the exporter reads of a revision
            pass

        rev = Rev()
        rev.document = Rev()
        rev.document.number = "XX-SP-04"
        rev.title, rev.version, rev.body_blocks = job.title, "A1", blocks
        import datetime

        rev.effective_date = datetime.date(2023, 6, 12)
        docx_bytes = docx_out.export_revision(
            rev, company=job.company, signatures=signatures, record=record, image_loader=None
        )
        import_times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            docx_in.check_docx("procedure.docx", docx_bytes)
            result = docx_in.read_docx(docx_bytes)
            import_times.append(time.perf_counter() - t0)
        assert result.blocks == blocks, "the .docx did not import back to the same blocks"

    print(
        f"procedure: {len(blocks)} blocks, controlled copy PDF {pages} pages, "
        f"{len(data) // 1024} KiB"
    )
    print(
        f"PDF (ReportLab, controlled copy): median {statistics.median(pdf_times) * 1000:.0f} ms, "
        f"min {min(pdf_times) * 1000:.0f} ms over {args.runs} runs"
    )
    print(
        f".docx import (check + read): median {statistics.median(import_times) * 1000:.0f} ms, "
        f"min {min(import_times) * 1000:.0f} ms"
    )
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        lo_times = []
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "procedure.docx"
            src.write_bytes(docx_bytes)
            for _ in range(max(3, args.runs // 5)):
                t0 = time.perf_counter()
                subprocess.run(
                    [soffice, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(src)],
                    check=True,
                    capture_output=True,
                )
                lo_times.append(time.perf_counter() - t0)
            lo_pages = len(PdfReader(str(Path(tmp) / "procedure.pdf")).pages)
        lo = statistics.median(lo_times)
        print(
            f"LibreOffice headless .docx → PDF ({lo_pages} pages): median {lo * 1000:.0f} ms "
            f"over {len(lo_times)} runs"
        )
        print(f"ReportLab is {lo / statistics.median(pdf_times):.0f}× faster")
    else:
        print("LibreOffice not installed: apt-get install libreoffice-writer-nogui to compare")


if __name__ == "__main__":
    main()
