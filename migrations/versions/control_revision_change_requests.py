"""control: the change requests a revision carries, kept as rows (revision_change_request)

Revision ID: control_revision_change_requests
Revises: authsec_session_version
Create Date: 2026-12-02 07:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "control_revision_change_requests"
down_revision = "authsec_session_version"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revision_change_request",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("change_request_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["revision_id"], ["revision.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["change_request_id"], ["change_request.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("revision_id", "change_request_id"),
    )
    with op.batch_alter_table("revision_change_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revision_change_request_change_request_id"),
            ["change_request_id"],
            unique=False,
        )
    # Every request accepted so far names its revision: those links become rows, so the
    # record shows each request even where the joined change number was cut at 40 characters.
    op.execute(
        "INSERT INTO revision_change_request (revision_id, change_request_id) "
        "SELECT revision_id, id FROM change_request "
        "WHERE revision_id IS NOT NULL AND state = 'accepted'"
    )


def downgrade():
    with op.batch_alter_table("revision_change_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revision_change_request_change_request_id"))
    op.drop_table("revision_change_request")
