"""one-time codes: stored as an HMAC keyed with a server secret; drop the codes hashed without a key

Codes live five minutes, so nobody loses a code they still need; what goes is every code ever sent
in a form a leaked database gives back (an unkeyed SHA-256 of ``phone:code`` is a million guesses).

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text('DELETE FROM med_one_time_codes'))


def downgrade() -> None:
    """Nothing to restore: the deleted codes had expired or could no longer be checked."""
