"""outbox_message.sent_message_id, sent_language: a decided question's copies can be edited

Revision ID: 0005_outbox_sent_message
Revises: 0004_invite_revoked
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_outbox_sent_message"
down_revision = "0004_invite_revoked"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("sent_language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("sent_language")
        batch_op.drop_column("sent_message_id")
