"""certification: the planned certification body, known before a certificate exists (given at
the company's set-up)

Revision ID: starter2_certification_plan
Revises: ocr2_attachment_text
Create Date: 2026-12-02 13:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "starter2_certification_plan"
down_revision = "ocr2_attachment_text"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certification_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=200), nullable=False),
        sa.Column("updated_dt", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_plan")),
    )


def downgrade():
    op.drop_table("certification_plan")
