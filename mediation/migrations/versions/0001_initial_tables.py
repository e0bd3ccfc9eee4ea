"""initial tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 15:37:37.850217
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('med_accounts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('id_number_enc', sa.LargeBinary(), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('organisation', sa.String(length=100), nullable=True),
    sa.Column('court', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_accounts')),
    sa.UniqueConstraint('login', name=op.f('uq_med_accounts_login'))
    )
    with op.batch_alter_table('med_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_accounts_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_accounts_role'), ['role'], unique=False)

    op.create_table('med_files',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_files'))
    )
    op.create_table('med_one_time_codes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_one_time_codes'))
    )
    with op.batch_alter_table('med_one_time_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_one_time_codes_phone'), ['phone'], unique=False)

    op.create_table('med_agent_links',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agent_id', sa.String(length=32), nullable=False),
    sa.Column('party_id', sa.String(length=32), nullable=False),
    sa.Column('power_of_attorney_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['med_accounts.id'], name=op.f('fk_med_agent_links_agent_id_med_accounts')),
    sa.ForeignKeyConstraint(['party_id'], ['med_accounts.id'], name=op.f('fk_med_agent_links_party_id_med_accounts')),
    sa.ForeignKeyConstraint(['power_of_attorney_id'], ['med_files.id'], name=op.f('fk_med_agent_links_power_of_attorney_id_med_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_agent_links'))
    )
    with op.batch_alter_table('med_agent_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_agent_links_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_agent_links_party_id'), ['party_id'], unique=False)

    op.create_table('med_cases',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('court', sa.String(length=100), nullable=True),
    sa.Column('dispute_type', sa.String(length=40), nullable=False),
    sa.Column('claims', sa.Text(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('mediator_id', sa.String(length=32), nullable=True),
    sa.Column('organisation', sa.String(length=100), nullable=True),
    sa.Column('room_id', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('audit_head', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['mediator_id'], ['med_accounts.id'], name=op.f('fk_med_cases_mediator_id_med_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_cases'))
    )
    with op.batch_alter_table('med_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_cases_dispute_type'), ['dispute_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_cases_mediator_id'), ['mediator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_cases_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_cases_step'), ['step'], unique=False)

    op.create_table('med_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['med_accounts.id'], name=op.f('fk_med_sessions_account_id_med_accounts')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_med_sessions'))
    )
    with op.batch_alter_table('med_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_sessions_account_id'), ['account_id'], unique=False)

    op.create_table('med_audit_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_audit_entries_case_id_med_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_audit_entries')),
    sa.UniqueConstraint('case_id', 'seq', name=op.f('uq_med_audit_entries_case_id'))
    )
    with op.batch_alter_table('med_audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_audit_entries_case_id'), ['case_id'], unique=False)

    op.create_table('med_case_documents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('file_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=12), nullable=True),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_case_documents_case_id_med_cases')),
    sa.ForeignKeyConstraint(['file_id'], ['med_files.id'], name=op.f('fk_med_case_documents_file_id_med_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_case_documents'))
    )
    with op.batch_alter_table('med_case_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_case_documents_case_id'), ['case_id'], unique=False)

    op.create_table('med_case_parties',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('id_number_enc', sa.LargeBinary(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=True),
    sa.Column('consent', sa.String(length=10), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['med_accounts.id'], name=op.f('fk_med_case_parties_account_id_med_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_case_parties_case_id_med_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_case_parties')),
    sa.UniqueConstraint('case_id', 'side', name=op.f('uq_med_case_parties_case_id'))
    )
    with op.batch_alter_table('med_case_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_case_parties_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_case_parties_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_case_parties_phone'), ['phone'], unique=False)

    op.create_table('med_complaints',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('organisation', sa.String(length=100), nullable=True),
    sa.Column('filed_by', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_complaints_case_id_med_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_complaints'))
    )
    with op.batch_alter_table('med_complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_complaints_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_complaints_organisation'), ['organisation'], unique=False)

    op.create_table('med_counselling_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('sender_id', sa.String(length=64), nullable=False),
    sa.Column('sender_role', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_counselling_messages_case_id_med_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_counselling_messages'))
    )
    with op.batch_alter_table('med_counselling_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_counselling_messages_case_id'), ['case_id'], unique=False)

    op.create_table('med_court_applications',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('court', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('joined_sides', sa.JSON(), nullable=False),
    sa.Column('materials', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('ruling', sa.String(length=16), nullable=True),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('ruled_by', sa.String(length=64), nullable=True),
    sa.Column('ruled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ruling_document_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_court_applications_case_id_med_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_court_applications'))
    )
    with op.batch_alter_table('med_court_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_court_applications_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_court_applications_court'), ['court'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_court_applications_status'), ['status'], unique=False)

    op.create_table('med_deadlines',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('standard', sa.String(length=300), nullable=False),
    sa.Column('responsible_account_id', sa.String(length=64), nullable=True),
    sa.Column('responsible_role', sa.String(length=20), nullable=True),
    sa.Column('responsible_court', sa.String(length=100), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_deadlines_case_id_med_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_deadlines'))
    )
    with op.batch_alter_table('med_deadlines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_deadlines_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_deadlines_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_deadlines_responsible_account_id'), ['responsible_account_id'], unique=False)

    op.create_table('med_litigation_packages',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_litigation_packages_case_id_med_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_med_litigation_packages'))
    )
    op.create_table('med_mediator_choices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('mediator_id', sa.String(length=32), nullable=False),
    sa.Column('chosen_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_mediator_choices_case_id_med_cases')),
    sa.ForeignKeyConstraint(['mediator_id'], ['med_accounts.id'], name=op.f('fk_med_mediator_choices_mediator_id_med_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_mediator_choices'))
    )
    with op.batch_alter_table('med_mediator_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_mediator_choices_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_mediator_choices_mediator_id'), ['mediator_id'], unique=False)

    op.create_table('med_ratings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=12), nullable=False),
    sa.Column('mediator_id', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=1000), nullable=False),
    sa.Column('rated_by', sa.String(length=64), nullable=False),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_ratings_case_id_med_cases')),
    sa.ForeignKeyConstraint(['mediator_id'], ['med_accounts.id'], name=op.f('fk_med_ratings_mediator_id_med_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_ratings')),
    sa.UniqueConstraint('case_id', 'side', name=op.f('uq_med_ratings_case_id'))
    )
    with op.batch_alter_table('med_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_ratings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_ratings_mediator_id'), ['mediator_id'], unique=False)

    op.create_table('med_results',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('agreement_id', sa.String(length=64), nullable=True),
    sa.Column('agreement_status', sa.String(length=12), nullable=True),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_reasons', sa.JSON(), nullable=True),
    sa.Column('payment_terms', sa.JSON(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_results_case_id_med_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_med_results'))
    )
    op.create_table('med_overdue_flags',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('court', sa.String(length=100), nullable=True),
    sa.Column('message', sa.String(length=400), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['med_cases.id'], name=op.f('fk_med_overdue_flags_case_id_med_cases')),
    sa.ForeignKeyConstraint(['deadline_id'], ['med_deadlines.id'], name=op.f('fk_med_overdue_flags_deadline_id_med_deadlines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_med_overdue_flags'))
    )
    with op.batch_alter_table('med_overdue_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_med_overdue_flags_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_overdue_flags_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_med_overdue_flags_deadline_id'), ['deadline_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('med_overdue_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_overdue_flags_deadline_id'))
        batch_op.drop_index(batch_op.f('ix_med_overdue_flags_case_id'))
        batch_op.drop_index(batch_op.f('ix_med_overdue_flags_account_id'))

    op.drop_table('med_overdue_flags')
    op.drop_table('med_results')
    with op.batch_alter_table('med_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_ratings_mediator_id'))
        batch_op.drop_index(batch_op.f('ix_med_ratings_case_id'))

    op.drop_table('med_ratings')
    with op.batch_alter_table('med_mediator_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_mediator_choices_mediator_id'))
        batch_op.drop_index(batch_op.f('ix_med_mediator_choices_case_id'))

    op.drop_table('med_mediator_choices')
    op.drop_table('med_litigation_packages')
    with op.batch_alter_table('med_deadlines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_deadlines_responsible_account_id'))
        batch_op.drop_index(batch_op.f('ix_med_deadlines_due_at'))
        batch_op.drop_index(batch_op.f('ix_med_deadlines_case_id'))

    op.drop_table('med_deadlines')
    with op.batch_alter_table('med_court_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_court_applications_status'))
        batch_op.drop_index(batch_op.f('ix_med_court_applications_court'))
        batch_op.drop_index(batch_op.f('ix_med_court_applications_case_id'))

    op.drop_table('med_court_applications')
    with op.batch_alter_table('med_counselling_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_counselling_messages_case_id'))

    op.drop_table('med_counselling_messages')
    with op.batch_alter_table('med_complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_complaints_organisation'))
        batch_op.drop_index(batch_op.f('ix_med_complaints_case_id'))

    op.drop_table('med_complaints')
    with op.batch_alter_table('med_case_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_case_parties_phone'))
        batch_op.drop_index(batch_op.f('ix_med_case_parties_case_id'))
        batch_op.drop_index(batch_op.f('ix_med_case_parties_account_id'))

    op.drop_table('med_case_parties')
    with op.batch_alter_table('med_case_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_case_documents_case_id'))

    op.drop_table('med_case_documents')
    with op.batch_alter_table('med_audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_audit_entries_case_id'))

    op.drop_table('med_audit_entries')
    with op.batch_alter_table('med_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_sessions_account_id'))

    op.drop_table('med_sessions')
    with op.batch_alter_table('med_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_cases_step'))
        batch_op.drop_index(batch_op.f('ix_med_cases_status'))
        batch_op.drop_index(batch_op.f('ix_med_cases_mediator_id'))
        batch_op.drop_index(batch_op.f('ix_med_cases_dispute_type'))

    op.drop_table('med_cases')
    with op.batch_alter_table('med_agent_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_agent_links_party_id'))
        batch_op.drop_index(batch_op.f('ix_med_agent_links_agent_id'))

    op.drop_table('med_agent_links')
    with op.batch_alter_table('med_one_time_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_one_time_codes_phone'))

    op.drop_table('med_one_time_codes')
    op.drop_table('med_files')
    with op.batch_alter_table('med_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_med_accounts_role'))
        batch_op.drop_index(batch_op.f('ix_med_accounts_phone'))

    op.drop_table('med_accounts')
