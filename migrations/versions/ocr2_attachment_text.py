"""attachment text: the recognised text of each attachment, its state and searchable PDF

Revision ID: ocr2_attachment_text
Revises: queue_job_table
Create Date: 2026-12-02 10:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "ocr2_attachment_text"
down_revision = "queue_job_table"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachment_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attachment_table", sa.String(length=40), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("engine", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("searchable_sha256", sa.String(length=64), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_dt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_dt", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_text")),
        sa.UniqueConstraint(
            "attachment_table",
            "attachment_id",
            name=op.f("uq_attachment_text_attachment_table_attachment_id"),
        ),
    )
    op.create_index(
        op.f("ix_attachment_text_owner_id"), "attachment_text", ["owner_id"], unique=False
    )
    op.create_index(
        op.f("ix_attachment_text_searchable_sha256"),
        "attachment_text",
        ["searchable_sha256"],
        unique=False,
    )


def downgrade():
    op.drop_table("attachment_text")
