"""Who may call each write route (docmgmt/auth/policy.py), pinned with the messages written out.
tests/auth/test_route_matrix.py tries every route through the app; this pins the rules."""

import pytest

from docmgmt.auth import policy
from docmgmt.auth.models import User

MANAGER = "Only a quality manager can do this."
ADMIN = "You do not have permission to do this."
READER = "Only quality managers and auditors can see this."
MEMBER = "Auditors have read-only access."
NOBODY = "You do not have permission to do this."
OPERATOR = "Only a quality manager or an administrator can do this."


def person(*roles):
    user = User(username="-".join(roles) or "none", full_name="x")
    user.set_roles(roles)
    return user


PEOPLE = {
    "qm": person("quality_manager"),
    "admin": person("admin"),
    "approver": person("approver"),
    "staff": person("staff"),
    "auditor": person("auditor"),
    "none": person(),
    "auditor+staff": person("auditor", "staff"),
    "auditor+qm": person("auditor", "quality_manager"),
}

# endpoint: {person: refusal (None: allowed)}
EXPECTED = {
    "jobs.rerun": {
        "qm": None,
        "admin": None,
        "approver": OPERATOR,
        "staff": OPERATOR,
        "auditor": OPERATOR,
        "none": OPERATOR,
        "auditor+staff": OPERATOR,
        "auditor+qm": None,
    },
    "versioning.publish": {
        "qm": None,
        "admin": MANAGER,
        "approver": MANAGER,
        "staff": MANAGER,
        "auditor": MANAGER,
        "none": MANAGER,
        "auditor+staff": MANAGER,
        "auditor+qm": None,
    },
    "api.cancel_revision": {
        "qm": None,
        "admin": MANAGER,
        "approver": MANAGER,
        "staff": MANAGER,
        "auditor": MANAGER,
        "none": MANAGER,
        "auditor+staff": MANAGER,
        "auditor+qm": None,
    },
    "auth.new_user": {
        "qm": ADMIN,
        "admin": None,
        "approver": ADMIN,
        "staff": ADMIN,
        "auditor": ADMIN,
        "none": ADMIN,
        "auditor+staff": ADMIN,
        "auditor+qm": ADMIN,
    },
    "certification_api.request_pack": {
        "qm": None,
        "admin": None,
        "approver": READER,
        "staff": READER,
        "auditor": None,
        "none": READER,
        "auditor+staff": None,
        "auditor+qm": None,
    },
    "api.sign_revision": {
        "qm": None,
        "admin": None,
        "approver": None,
        "staff": None,
        "auditor": MEMBER,
        "none": MEMBER,  # no role at all: read-only too
        "auditor+staff": None,
        "auditor+qm": None,
    },
    "no.such_route": dict.fromkeys(PEOPLE, NOBODY),
}

CASES = [(e, p) for e in EXPECTED for p in PEOPLE]


@pytest.mark.parametrize(("endpoint", "who"), CASES, ids=[f"{e}-{p}" for e, p in CASES])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_write_routes(endpoint, who, method):
    assert policy.refusal(PEOPLE[who], endpoint, method) == EXPECTED[endpoint][who]


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "post"])
@pytest.mark.parametrize("endpoint", ["versioning.publish", "auth.new_user", "no.such_route", None])
def test_reads_are_not_decided_here(method, endpoint):
    assert policy.refusal(PEOPLE["none"], endpoint, method) is None


@pytest.mark.parametrize("endpoint", ["auth.login", "auth.logout", "auth.set_language", "static"])
@pytest.mark.parametrize("who", PEOPLE)
def test_open_routes_take_anyone(endpoint, who):
    assert policy.refusal(PEOPLE[who], endpoint, "POST") is None


def test_a_write_without_an_endpoint_is_refused():
    assert policy.refusal(PEOPLE["qm"], None, "POST") == NOBODY
    assert policy.refusal(PEOPLE["admin"], "", "DELETE") == NOBODY


def test_the_methods_and_open_routes():
    assert {"POST", "PUT", "PATCH", "DELETE"} == policy.WRITE_METHODS
    assert {"auth.login", "auth.logout", "auth.set_language", "static"} == policy.OPEN


def test_who_each_rule_names():
    rules = {rule.name for rule in policy.WRITE_POLICY.values()}
    assert rules == {
        "quality manager",
        "administrator",
        "reader of the history",
        "anyone but an auditor",
        "quality manager or administrator",
    }
    by_rule = {}
    for endpoint, rule in policy.WRITE_POLICY.items():
        by_rule.setdefault(rule.name, set()).add(endpoint)
    assert by_rule["administrator"] == {
        "auth.new_user",
        "auth.edit_user",
        "auth.set_user_active",
        "auth.unlock_user",
        "starter.setup_company",
    }
    assert by_rule["reader of the history"] == {
        "certification.request_pack",
        "certification_api.request_pack",
    }
    assert by_rule["quality manager or administrator"] == {"jobs.rerun", "jobs_api.rerun_job"}
    assert len(by_rule["quality manager"]) == 55  # + retry of a training attachment's text
    # + retry of an attachment's text (records, change requests)
    assert len(by_rule["anyone but an auditor"]) == 35


def test_a_role_rule_asks_for_any_of_its_roles():
    """The rules are built when the module is imported; build one here too."""
    from docmgmt.auth.models import Role

    rule = policy._has(Role.QUALITY_MANAGER, Role.AUDITOR)
    assert rule(PEOPLE["qm"]) is True
    assert rule(PEOPLE["auditor"]) is True
    assert rule(PEOPLE["staff"]) is False
    assert rule(PEOPLE["none"]) is False
