"""printing: controlled copies and their register, Word sources of revisions

Revision ID: b3c0a1d2e3f4
Revises: a5c7e9d1b3f5
Create Date: 2026-11-25 05:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b3c0a1d2e3f4"
down_revision = "a5c7e9d1b3f5"
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade():
    op.create_table(
        "controlled_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("copy_no", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=100), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("medium", _enum("medium_value", "paper", "electronic"), nullable=False),
        sa.Column("issued_dt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("state", _enum("copystate_value", "issued", "recalled", "lost"), nullable=False),
        sa.Column("closed_dt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revision.id"], name=op.f("fk_controlled_copy_revision_id_revision")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["user.id"], name=op.f("fk_controlled_copy_holder_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_controlled_copy_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["user.id"], name=op.f("fk_controlled_copy_issued_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["user.id"], name=op.f("fk_controlled_copy_closed_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_controlled_copy")),
        sa.UniqueConstraint(
            "revision_id", "copy_no", name=op.f("uq_controlled_copy_revision_id_copy_no")
        ),
        sa.UniqueConstraint("token", name=op.f("uq_controlled_copy_token")),
    )
    with op.batch_alter_table("controlled_copy") as batch_op:
        batch_op.create_index(batch_op.f("ix_controlled_copy_revision_id"), ["revision_id"])
        batch_op.create_index(batch_op.f("ix_controlled_copy_state"), ["state"])
    op.create_table(
        "revision_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=False),
        sa.Column("imported_dt", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revision.id"], name=op.f("fk_revision_source_revision_id_revision")
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"], ["user.id"], name=op.f("fk_revision_source_imported_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision_source")),
    )
    with op.batch_alter_table("revision_source") as batch_op:
        batch_op.create_index(batch_op.f("ix_revision_source_revision_id"), ["revision_id"])


def downgrade():
    op.drop_table("revision_source")
    op.drop_table("controlled_copy")
