"""search: the entries of the PostgreSQL search engine (a tsvector of the app's own analysis
with a GIN index); on SQLite the table exists, unused, so models and schema agree

Revision ID: searchpg_search_entry
Revises: searchlean_outbox_priority
Create Date: 2026-12-03 10:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "searchpg_search_entry"
down_revision = "searchlean_outbox_priority"
branch_labels = None
depends_on = None


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "search_entry",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("grp", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ftitle", sa.Text(), nullable=False),
        sa.Column("fnumber", sa.Text(), nullable=False),
        sa.Column("terms", postgresql.TSVECTOR() if pg else sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_search_entry")),
    )
    op.create_index(op.f("ix_search_entry_grp"), "search_entry", ["grp"], unique=False)
    # Bigrams and grams are exact lexemes: a GIN index answers every term, even of two
    # characters (pg_trgm cannot use its index under three). On SQLite the column stays empty.
    op.create_index("ix_search_entry_terms", "search_entry", ["terms"], postgresql_using="gin")


def downgrade():
    op.drop_table("search_entry")
