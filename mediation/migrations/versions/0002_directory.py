"""directory: mediation organisations, mediator profiles, and the indexes recommendation needs

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'med_organisations',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('region', sa.String(length=100), nullable=False),
        sa.Column('address', sa.String(length=200), nullable=False),
        sa.Column('contact', sa.String(length=100), nullable=False),
        sa.Column('intro', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_med_organisations')),
        sa.UniqueConstraint('name', name=op.f('uq_med_organisations_name')),
    )
    op.create_index(op.f('ix_med_organisations_category'), 'med_organisations', ['category'])
    op.create_index(op.f('ix_med_organisations_region'), 'med_organisations', ['region'])

    op.create_table(
        'med_mediator_profiles',
        sa.Column('account_id', sa.String(length=32), nullable=False),
        sa.Column('organisation_id', sa.String(length=32), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('region', sa.String(length=100), nullable=False),
        sa.Column('intro', sa.Text(), nullable=False),
        sa.Column('available', sa.Boolean(), nullable=False),
        sa.Column('max_concurrent', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['med_accounts.id'],
                                name=op.f('fk_med_mediator_profiles_account_id_med_accounts')),
        sa.ForeignKeyConstraint(['organisation_id'], ['med_organisations.id'],
                                name=op.f('fk_med_mediator_profiles_organisation_id_med_organisations')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_med_mediator_profiles')),
    )
    for column in ('organisation_id', 'category', 'region', 'available'):
        op.create_index(op.f(f'ix_med_mediator_profiles_{column}'), 'med_mediator_profiles', [column])

    for table, value in (('med_mediator_specialities', 'dispute_type'), ('med_mediator_languages', 'language')):
        op.create_table(
            table,
            sa.Column(value, sa.String(length=40), nullable=False),
            sa.Column('account_id', sa.String(length=32), nullable=False),
            sa.ForeignKeyConstraint(['account_id'], ['med_mediator_profiles.account_id'],
                                    name=op.f(f'fk_{table}_account_id_med_mediator_profiles')),
            sa.PrimaryKeyConstraint(value, 'account_id', name=op.f(f'pk_{table}')),
        )
        op.create_index(op.f(f'ix_{table}_account_id'), table, ['account_id'])

    op.create_index('ix_med_cases_mediator_load', 'med_cases', ['mediator_id', 'step', 'outcome'])
    op.create_index('ix_med_mediator_choices_mediator_status', 'med_mediator_choices', ['mediator_id', 'status'])
    op.create_index('ix_med_ratings_mediator_score', 'med_ratings', ['mediator_id', 'score'])


def downgrade() -> None:
    op.drop_index('ix_med_ratings_mediator_score', table_name='med_ratings')
    op.drop_index('ix_med_mediator_choices_mediator_status', table_name='med_mediator_choices')
    op.drop_index('ix_med_cases_mediator_load', table_name='med_cases')
    for table in ('med_mediator_languages', 'med_mediator_specialities'):
        op.drop_index(op.f(f'ix_{table}_account_id'), table_name=table)
        op.drop_table(table)
    for column in ('available', 'region', 'category', 'organisation_id'):
        op.drop_index(op.f(f'ix_med_mediator_profiles_{column}'), table_name='med_mediator_profiles')
    op.drop_table('med_mediator_profiles')
    op.drop_index(op.f('ix_med_organisations_region'), table_name='med_organisations')
    op.drop_index(op.f('ix_med_organisations_category'), table_name='med_organisations')
    op.drop_table('med_organisations')
