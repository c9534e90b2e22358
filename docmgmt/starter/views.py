"""The checklist of what is still to write: every document with open placeholders."""

from flask import render_template
from flask_login import current_user, login_required

from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.placeholders import revision_placeholders
from docmgmt.starter import bp
from docmgmt.starter.placeholders import document_placeholders, open_by_document


@bp.app_template_global("open_placeholders")
def _open_placeholders(doc):
    return document_placeholders(doc)


@bp.get("/checklist")
@login_required
def checklist():
    require(can_manage_documents(current_user))
    return render_template("starter/checklist.html", rows=open_by_document())


@bp.app_template_global("revision_placeholders")
def _revision_placeholders(rev):
    return revision_placeholders(rev)
