"""publication_snapshot.released_by: a month goes public when an oversight officer releases it

Revision ID: 0006_publication_released_by
Revises: 0005_outbox_sent_message
Create Date: 2026-12-03 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_publication_released_by"
down_revision = "0005_outbox_sent_message"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Months already stored stay public: they count as released, by nobody recorded.
    with op.batch_alter_table("publication_snapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("released_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publication_snapshot", schema=None) as batch_op:
        batch_op.drop_column("released_by")
