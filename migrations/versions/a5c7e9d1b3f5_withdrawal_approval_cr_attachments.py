"""control: withdrawal approval, change request attachments

Revision ID: a5c7e9d1b3f5
Revises: 4592e130413e
Create Date: 2026-11-25 05:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a5c7e9d1b3f5"
down_revision = "4592e130413e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "change_request_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_request_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_dt", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_request_id"],
            ["change_request.id"],
            name=op.f("fk_change_request_attachment_change_request_id_change_request"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user.id"],
            name=op.f("fk_change_request_attachment_uploaded_by_id_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_request_attachment")),
    )
    with op.batch_alter_table("change_request_attachment") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_request_attachment_change_request_id"), ["change_request_id"]
        )
    op.create_table(
        "withdrawal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_dt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                name="withdrawalstate_value",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("decided_dt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=False),
        sa.Column("confirmed_references", sa.Text(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_withdrawal_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["user.id"], name=op.f("fk_withdrawal_proposed_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["user.id"], name=op.f("fk_withdrawal_approver_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawal")),
    )
    with op.batch_alter_table("withdrawal") as batch_op:
        batch_op.create_index(batch_op.f("ix_withdrawal_document_id"), ["document_id"])
        batch_op.create_index(batch_op.f("ix_withdrawal_approver_id"), ["approver_id"])
        batch_op.create_index(batch_op.f("ix_withdrawal_state"), ["state"])
        # At most one pending withdrawal per document.
        batch_op.create_index(
            "uq_withdrawal_one_pending",
            ["document_id"],
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )


def downgrade():
    op.drop_table("withdrawal")
    op.drop_table("change_request_attachment")
