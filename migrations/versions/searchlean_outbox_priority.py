"""search: outbox rows carry a priority, so removals are applied before pending additions and
a bulk import's rows after everybody else's

Revision ID: searchlean_outbox_priority
Revises: ldap_directory_accounts
Create Date: 2026-12-02 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "searchlean_outbox_priority"
down_revision = "ldap_directory_accounts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="1")
        )
        batch_op.create_index("ix_search_outbox_priority", ["priority", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_search_outbox_priority")
        batch_op.drop_column("priority")
