"""jobs: background work (imports, evidence packs, daily activation and digest) with its
state, progress and fencing attempt in the database

Revision ID: queue_job_table
Revises: searchpg_search_entry
Create Date: 2026-12-02 09:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "queue_job_table"
down_revision = "searchpg_search_entry"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_dt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_dt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_dt", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("key", name=op.f("uq_job_key")),
    )
    op.create_index(op.f("ix_job_state"), "job", ["state"], unique=False)


def downgrade():
    op.drop_table("job")
