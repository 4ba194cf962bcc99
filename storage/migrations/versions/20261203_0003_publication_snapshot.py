"""publication_snapshot: a published month is stored as first served and never changes

Revision ID: 0003_publication_snapshot
Revises: 0002_session_epoch
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003_publication_snapshot"
down_revision = "0002_session_epoch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publication_snapshot",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("csv", sa.LargeBinary(), nullable=False),
        sa.Column("xlsx", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_publication_snapshot")),
    )


def downgrade() -> None:
    op.drop_table("publication_snapshot")
