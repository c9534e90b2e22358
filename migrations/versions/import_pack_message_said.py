"""record imports and evidence packs: their message kept as a msgid and its parameters, said in
the reader's language (docmgmt/jobs/said.py); rows from before keep their text, shown as stored

Revision ID: import_pack_message_said
Revises: jobs_message_said
"""

import sqlalchemy as sa
from alembic import op

revision = "import_pack_message_said"
down_revision = "jobs_message_said"
branch_labels = None
depends_on = None

TABLES = ("record_import", "evidence_pack")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("message_id", sa.String(300), nullable=False, server_default="")
            )
            batch.add_column(sa.Column("message_params", sa.JSON(), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("message_params")
            batch.drop_column("message_id")
