"""catalogue_info: the imported catalogue's region, for the publication's title

Revision ID: 0008_catalogue_region
Revises: 0007_publication_withdrawals
Create Date: 2026-12-03 21:00:00

Left empty: a database imported before this revision has no region until its next
`minsheng agencies import`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_catalogue_region"
down_revision = "0007_publication_withdrawals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_info")),
    )


def downgrade() -> None:
    op.drop_table("catalogue_info")
