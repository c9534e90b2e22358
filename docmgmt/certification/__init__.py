"""Certification: the clause-to-evidence matrix, record sampling, the surveillance schedule
and evidence packs; the auditor's workspace."""

from flask import Blueprint

bp = Blueprint("certification", __name__, url_prefix="/certification")

#: Endpoints an auditor may POST to: they build evidence, they change nothing controlled.
AUDITOR_MAY_POST = {"certification.request_pack", "certification_api.request_pack"}


def desk_section():
    from flask import url_for
    from flask_babel import gettext as _

    from docmgmt.certification.operations import current_certificate, schedule

    cert = current_certificate()
    items = []
    if cert is not None:
        s = schedule(cert)
        if s["status"] != "ok":
            label = (
                _("Surveillance audit overdue since %(d)s", d=s["due"])
                if s["status"] == "overdue"
                else _("Surveillance audit due by %(d)s", d=s["due"])
            )
            items.append((label, url_for("certification.index")))
    return _("Certification"), items
