"""How the jobs page and API name a job's kind, state and phase (translated; never a code)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

KINDS = {
    "import": _l("Record import"),
    "pack": _l("Evidence pack"),
    "ocr": _l("Text recognition of an attachment"),
    "activate": _l("Revisions taking effect on their date"),
    "digest": _l("Daily digest mail"),
    "search": _l("Search index update"),
    "search-check": _l("Search index check"),
    "reindex": _l("Search index rebuild"),
    "prune": _l("Deleting old background jobs"),
}

STATES = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "done": _l("Done"),
    "failed": _l("Stopped with an error"),
}

PHASES = {
    "reading": _l("Reading the file"),
    "validating": _l("Checking the rows"),
    "filing": _l("Filing the valid rows"),
    "building": _l("Building"),
    "mailing": _l("Mailing"),
    "indexing": _l("Indexing"),
}


def kind_label(kind: str) -> str:
    return str(KINDS[kind]) if kind in KINDS else _("Other background work")


def state_label(state: str) -> str:
    return str(STATES.get(state, STATES["queued"]))


def phase_label(phase: str) -> str:
    return str(PHASES[phase]) if phase in PHASES else ""
