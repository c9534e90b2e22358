"""Chinese first, English too: complete catalogues and a working switch."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.conftest import page_text

ROOT = Path(__file__).resolve().parents[2]
# Babel resolves the zh_CN locale to zh_Hans_CN, so that is the catalogue's directory.
DIRS = {"zh_CN": "zh_Hans_CN", "en": "en"}


def _catalog(locale):
    with open(ROOT / "translations" / DIRS[locale] / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def _extracted(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as f:
        return read_po(f)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_string_in_the_code_is_translated(tmp_path, locale):
    catalog = _catalog(locale)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = [m.id for m in _extracted(tmp_path) if m.id and m.id not in translated]
    assert missing == [], f"{len(missing)} strings lack a {locale} translation: {missing[:10]}"


def test_placeholders_survive_translation():
    import re

    for m in _catalog("zh_CN"):
        if m.id and m.string:
            assert sorted(re.findall(r"%\(\w+\)[sd]", m.id)) == sorted(
                re.findall(r"%\(\w+\)[sd]", m.string)
            ), m.id


def test_the_ui_is_chinese_by_default_and_switches_to_english(app, client, auth, people):
    from docmgmt.config import Config

    assert Config.BABEL_DEFAULT_LOCALE == "zh_CN"
    app.config["BABEL_DEFAULT_LOCALE"] = Config.BABEL_DEFAULT_LOCALE
    r = client.get("/login")
    assert "登录" in page_text(r)
    auth.login("staff")
    assert "文件清单" in page_text(client.get("/documents/"))
    client.post("/lang/en?next=/documents/")
    assert "Document register" in page_text(client.get("/documents/"))
    client.post("/lang/zh_CN")
    assert "文件清单" in page_text(client.get("/documents/"))
    # An unknown language and a foreign redirect target are ignored.
    r = client.post("/lang/xx?next=//evil.example/")
    assert r.status_code == 303 and "evil" not in r.location


def test_pages_declare_utf8_so_chinese_never_shows_as_mojibake(client):
    assert '<meta charset="utf-8">' in client.get("/login").get_data(as_text=True)


# Msgids the code no longer uses, removed from both catalogues: a translator should not be
# asked to keep them, and nothing may bring them back unnoticed ("Page %(n)d": page numbers
# come from DOCMGMT_PDF_PAGE_NUMBERS, docmgmt/printing/pdf.py).
RETIRED = ["Page %(n)d"]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_retired_msgids_are_gone_from_the_catalogues(tmp_path, locale):
    ids = {m.id for m in _catalog(locale) if m.id}
    extracted = {m.id for m in _extracted(tmp_path) if m.id}
    assert [m for m in RETIRED if m in ids or m in extracted] == []
