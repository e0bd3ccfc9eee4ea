"""case numbers in the court's format, (2026)川0104民调7号: a unique number on each case and one
counter per court code and year; existing cases are numbered in the order they were created

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

from collections import Counter
from datetime import timezone

import sqlalchemy as sa
from alembic import op

from mediation.case_numbers import case_year, format_case_number

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'med_case_number_sequences',
        sa.Column('scope', sa.String(length=20), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'year', name=op.f('pk_med_case_number_sequences')),
    )
    with op.batch_alter_table('med_cases') as batch:
        batch.add_column(sa.Column('case_number', sa.String(length=40), nullable=True))
        batch.create_unique_constraint(op.f('uq_med_cases_case_number'), ['case_number'])
    _number_existing_cases()


def _number_existing_cases() -> None:
    """Give the cases created before numbers existed theirs, per court code and year, oldest first."""
    conn = op.get_bind()
    cases = sa.table('med_cases', sa.column('id', sa.String), sa.column('court', sa.String),
                     sa.column('created_at', sa.DateTime(timezone=True)), sa.column('case_number', sa.String))
    courts = sa.table('med_courts', sa.column('name', sa.String), sa.column('code', sa.String))
    sequences = sa.table('med_case_number_sequences', sa.column('scope', sa.String), sa.column('year', sa.Integer),
                         sa.column('last', sa.Integer))
    codes = dict(conn.execute(sa.select(courts.c.name, courts.c.code)).all())
    counted: Counter[tuple[str, int]] = Counter()
    rows = conn.execute(sa.select(cases.c.id, cases.c.court, cases.c.created_at)
                        .order_by(cases.c.created_at, cases.c.id)).all()
    for case_id, court, created_at in rows:
        if created_at.tzinfo is None:  # SQLite gives back the stored UTC without its zone
            created_at = created_at.replace(tzinfo=timezone.utc)
        code = codes.get(court) or ""
        year = case_year(created_at)
        counted[(code, year)] += 1
        conn.execute(sa.update(cases).where(cases.c.id == case_id)
                     .values(case_number=format_case_number(year, code, counted[(code, year)])))
    if counted:
        conn.execute(sa.insert(sequences), [{"scope": scope, "year": year, "last": last}
                                           for (scope, year), last in counted.items()])


def downgrade() -> None:
    with op.batch_alter_table('med_cases') as batch:
        batch.drop_constraint(op.f('uq_med_cases_case_number'), type_='unique')
        batch.drop_column('case_number')
    op.drop_table('med_case_number_sequences')
