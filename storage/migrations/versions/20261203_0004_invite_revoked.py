"""invite_code.revoked_at: the office can withdraw an unused invite

Revision ID: 0004_invite_revoked
Revises: 0003_publication_snapshot
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004_invite_revoked"
down_revision = "0003_publication_snapshot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invite_code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", storage.types.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invite_code", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
