"""publication_snapshot keeps withdrawn releases: withdrawn_at/_by, withdraw_reason; an id key, month unique
only among current rows

Revision ID: 0007_publication_withdrawals
Revises: 0006_publication_released_by
Create Date: 2026-12-03 20:00:00

The primary key moves from month to a new id, so the table is rebuilt (the same way on both backends):
its rows (a few per year) are read, the table recreated and the rows written back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007_publication_withdrawals"
down_revision = "0006_publication_released_by"
branch_labels = None
depends_on = None

_KEPT = ("month", "html", "csv", "xlsx", "created_at", "released_by")


def _columns() -> list[sa.Column]:
    return [
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("csv", sa.LargeBinary(), nullable=False),
        sa.Column("xlsx", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=100), nullable=True),
    ]


def _rows(where: str = "") -> list[dict]:
    query = sa.text(f"SELECT {', '.join(_KEPT)} FROM publication_snapshot {where}")
    table = sa.table("publication_snapshot", *[sa.column(c.name, c.type) for c in _columns()])
    return [dict(row._mapping) for row in op.get_bind().execute(query.columns(*table.c))]


def upgrade() -> None:
    rows = _rows()
    op.drop_table("publication_snapshot")
    table = op.create_table(
        "publication_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        *_columns(),
        sa.Column("withdrawn_at", storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=100), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_snapshot")),
    )
    op.create_index(
        "ix_publication_snapshot_current",
        "publication_snapshot",
        ["month"],
        unique=True,
        sqlite_where=sa.text("withdrawn_at IS NULL"),
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    # The month was the key: only the current releases survive; withdrawn ones are dropped.
    rows = _rows("WHERE withdrawn_at IS NULL")
    op.drop_index("ix_publication_snapshot_current", table_name="publication_snapshot")
    op.drop_table("publication_snapshot")
    table = op.create_table(
        "publication_snapshot", *_columns(), sa.PrimaryKeyConstraint("month", name=op.f("pk_publication_snapshot"))
    )
    if rows:
        op.bulk_insert(table, rows)
