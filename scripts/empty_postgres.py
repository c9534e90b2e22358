"""Empty a PostgreSQL database's public schema, so a benchmark or fault run starts from nothing.

python scripts/empty_postgres.py postgresql://user:password@host/db
"""

import sys

import sqlalchemy as sa


def empty(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    empty(sys.argv[1])
