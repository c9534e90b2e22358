"""The approver named for a disposal or a withdrawal is refused with the real reason, naming
the field: no such user is not "name an approver other than yourself"."""

import pytest

from docmgmt.extensions import db
from tests.records.test_records import _old_record, wo  # noqa: F401 (a fixture)

NO_SUCH = "There is no user with the id 99999: choose the approver from the list."


@pytest.mark.usefixtures("wo")
@pytest.mark.parametrize(
    ("approver", "message"),
    [
        (99999, NO_SUCH),
        ("qm", "You cannot be the approver of what you submit yourself: choose someone else."),
        ("staff", "赵敏 may not sign as approver."),
    ],
)
def test_a_disposal_names_what_is_wrong_with_its_approver(
    client,
    people,
    token_for,
    approver,
    message,
):
    from docmgmt.records.models import Disposal

    due = _old_record(people, 4 * 365, "到期工单")
    approver_id = people[approver].id if isinstance(approver, str) else approver
    r = client.post(
        "/api/v1/disposals",
        json={"record_ids": [due.id], "reason": "保存期满", "approver_id": approver_id},
        headers=token_for(people["qm"]),
    )
    assert r.status_code == 422
    assert (r.get_json()["field"], r.get_json()["message"]) == ("approver_id", message)
    assert db.session.query(Disposal).count() == 0


def test_a_withdrawal_names_what_is_wrong_with_its_approver(
    client, people, token_for, effective_doc
):
    from docmgmt.control.models import Withdrawal

    doc, _a0 = effective_doc()
    for approver_id, message in (
        (99999, NO_SUCH),
        (people["staff"].id, "赵敏 may not sign as approver."),
    ):
        r = client.post(
            f"/api/v1/documents/{doc.id}/withdraw",
            json={"reason": "业务取消", "approver_id": approver_id},
            headers=token_for(people["qm"]),
        )
        assert r.status_code == 422
        assert (r.get_json()["field"], r.get_json()["message"]) == ("approver_id", message)
    assert db.session.query(Withdrawal).count() == 0
