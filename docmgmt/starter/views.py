"""The checklist of what is still to write: every document with open placeholders."""

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from docmgmt.auth.models import Role
from docmgmt.auth.permissions import can_manage_documents, require
from docmgmt.errors import DomainError
from docmgmt.extensions import db
from docmgmt.placeholders import revision_placeholders
from docmgmt.starter import bp, kit
from docmgmt.starter.placeholders import document_placeholders, open_by_document


@bp.app_template_global("open_placeholders")
def _open_placeholders(doc):
    return document_placeholders(doc)


@bp.get("/checklist")
@login_required
def checklist():
    # The administrator who set the company up is sent here from the set-up's result page.
    require(can_manage_documents(current_user) or current_user.has_role(Role.ADMIN))
    return render_template("starter/checklist.html", rows=open_by_document())


@bp.app_template_global("revision_placeholders")
def _revision_placeholders(rev):
    return revision_placeholders(rev)


def _form_facts(form, company, tset):
    """The facts table of the first-run form (names as in templates/starter/setup.html), and
    the form's label of each entry, for the messages."""

    def get(name):
        return (form.get(name) or "").strip()

    facts = {"company": get("company"), "products": get("products")}
    for name in tset.facts:
        if name not in facts and name not in kit.STANDS_FOR and get(f"fact_{name}"):
            facts[name] = get(f"fact_{name}")
    codes = [d.code for d in company.departments]
    names = {d.code: d.name for d in company.departments}  # a name left empty: the template's
    by = {c: get(f"dept_{c}_by") for c in codes}
    departments = [
        {
            "code": c,
            "name": get(f"dept_{c}_name") or names[c],
            "covers": [o for o in codes if by[o] == c],
        }
        for c in codes
        if not by[c]
    ]

    def home(code):
        return by.get(code) or code

    labels = {
        "prefix": _("Document number prefix"),
        "certificate_body": _("Certification body, if known"),
        "facts.company": _("Company name"),
        "facts.address": _("Address"),
        "facts.products": _("Products and services (separated by 、 or commas)"),
        "facts.service_manager": _("After-sales service manager: name"),
        "facts.general_manager": _("General manager: name"),
        "facts.management_rep": _("Management representative: name"),
    }
    for name, fact in tset.facts.items():
        labels.setdefault(f"facts.{name}", kit.fact_label(fact))
    for i, c in enumerate(c for c in codes if not by[c]):
        labels[f"departments[{i}]"] = labels[f"departments[{i}].name"] = names[c]
    person_labels = {
        "sm": (
            _("After-sales service manager: user name (quality manager)"),
            _("After-sales service manager: name"),
        ),
        "gm": (_("General manager: user name (optional, approver)"), _("General manager: name")),
        "mr": (
            _("Management representative: user name (optional, approver)"),
            _("Management representative: name"),
        ),
    }
    people = [
        {
            "username": get("sm_username"),
            "full_name": get("sm_name"),
            "job_title": get("sm_title"),
            "roles": ["quality_manager"],
            "department": home("AS"),
            "stands_for": ["service_manager"],
        }
    ]
    for key, role, title, dep in (
        ("gm", "general_manager", "gm_title", "MGT"),
        ("mr", "management_rep", "mr_title", "MGT"),
    ):
        if get(f"{key}_username"):
            people.append(
                {
                    "username": get(f"{key}_username"),
                    "full_name": get(f"{key}_name"),
                    "job_title": get(title),
                    "roles": ["approver"],
                    "department": home(dep),
                    "stands_for": [role],
                }
            )
        elif get(f"{key}_name"):
            name = get(f"{key}_name")
            facts[role] = name if role == "general_manager" else get(title) + name
    for i, key in enumerate(["sm"] + [k for k in ("gm", "mr") if get(f"{k}_username")]):
        user_label, name_label = person_labels[key]
        labels[f"people[{i}]"] = labels[f"people[{i}].username"] = user_label
        labels[f"people[{i}].full_name"] = name_label
    raw = {"facts": facts, "departments": departments, "people": people}
    if get("prefix"):
        raw["prefix"] = get("prefix")
    if get("certificate_body"):
        raw["certificate_body"] = get("certificate_body")
    return raw, labels


@bp.route("/company", methods=["GET", "POST"])
@login_required
def setup_company():
    """The administrator's first run: the company's facts in, 23 drafts out."""
    require(current_user.has_role(Role.ADMIN))
    company = kit._company()
    tset = kit.template_set(company)
    there = kit.instance_is_empty()
    context = {
        "company": company,
        "facts": tset.facts,
        "stands_for": kit.STANDS_FOR,
        "there": there,
        "form": request.form,
        "default_prefix": current_app.config["DOC_NUMBER_PREFIX"],
        "fact_label": kit.fact_label,
    }
    if request.method == "GET" or there is not None:
        return render_template("starter/setup.html", **context), 200 if there is None else 409
    try:
        raw, labels = _form_facts(request.form, company, tset)
        facts = kit.read_facts(raw, name=_("the form"), labels=labels)
        result = kit.set_up(facts, actor=current_user)
        db.session.commit()
    except (kit.SetupError, DomainError) as exc:
        db.session.rollback()
        flash(_("Nothing was set up: %(e)s", e=getattr(exc, "message", None) or str(exc)), "error")
        return render_template("starter/setup.html", **context), 422
    return render_template(
        "starter/setup_done.html", result=result, company_name=facts.facts["company"]
    )
