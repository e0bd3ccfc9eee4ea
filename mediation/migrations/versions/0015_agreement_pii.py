"""agreement texts: ID numbers encrypted with the PII key, like the case tables'

Every ``id_number`` in ``med_agreement_versions.data`` becomes ``pii1:<AES-GCM blob>``
(:mod:`mediation.agreement_pii`). The key comes from the caller (``upgrade_engine(...,
pii_key=...)``, as the server and every ``accord`` command pass it): a database holding agreements
cannot be converted without it, and the migration says so rather than leaving numbers in clear.

Revision ID: 0015
Revises: 0011
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from mediation.agreement_pii import open_id_numbers, seal_id_numbers
from mediation.pii import PiiCipher

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_versions = sa.table('med_agreement_versions', sa.column('id', sa.Integer), sa.column('data', sa.JSON))


def _convert(change: Callable[[Any, PiiCipher], Any]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_versions.c.id, _versions.c.data)).all()
    if not rows:
        return
    key = context.config.attributes.get('pii_key')
    if key is None:
        raise RuntimeError('migration 0015 encrypts the ID numbers of stored agreements and needs the PII key: '
                           'run it through accord (accord serve, or any accord command on this data directory)')
    cipher = PiiCipher(key)
    for row_id, data in rows:
        changed = change(data, cipher)
        if changed != data:
            bind.execute(sa.update(_versions).where(_versions.c.id == row_id).values(data=changed))


def upgrade() -> None:
    _convert(seal_id_numbers)


def downgrade() -> None:
    _convert(open_id_numbers)
