"""recordings: sessions of a case's room, consents, tracks, segments, the segment hash chain and
its RFC 3161 time stamps

Revision ID: 0013
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"))


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}'))


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f'ix_{table}_{column}'), table, [column])


def upgrade() -> None:
    t = 'med_recording_sessions'
    op.create_table(
        t,
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('case_id', sa.String(length=32), nullable=False),
        sa.Column('room_id', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('started_at', _TIME, nullable=False),
        sa.Column('ended_at', _TIME, nullable=True),
        sa.Column('end_us', sa.BigInteger(), nullable=True),
        sa.Column('policy', sa.JSON(), nullable=False),
        sa.Column('started_by', sa.String(length=32), nullable=True),
        sa.Column('node', sa.String(length=32), nullable=True),
        sa.Column('notes', sa.JSON(), nullable=False),
        sa.Column('manifest_sha256', sa.String(length=64), nullable=True),
        sa.Column('composite_sha256', sa.String(length=64), nullable=True),
        sa.Column('composite_path', sa.String(length=200), nullable=True),
        _fk(t, 'case_id', 'med_cases.id'),
        _fk(t, 'started_by', 'med_accounts.id'),
        _pk(t),
    )
    _index(t, 'case_id', 'room_id', 'state')

    t = 'med_recording_consents'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('seat', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.String(length=32), nullable=True),
        sa.Column('party_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('case_role', sa.String(length=24), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('answer', sa.String(length=10), nullable=False),
        sa.Column('answered_at', _TIME, nullable=False),
        _fk(t, 'session_id', 'med_recording_sessions.id'),
        _fk(t, 'account_id', 'med_accounts.id'),
        _fk(t, 'party_id', 'med_case_parties.id'),
        _pk(t),
        sa.UniqueConstraint('session_id', 'seat', name=op.f(f'uq_{t}_session_id')),
    )
    _index(t, 'session_id', 'account_id')

    t = 'med_recording_tracks'
    op.create_table(
        t,
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('seat', sa.String(length=32), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.String(length=32), nullable=True),
        sa.Column('party_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('codec', sa.String(length=16), nullable=False),
        sa.Column('first_us', sa.BigInteger(), nullable=True),
        sa.Column('last_us', sa.BigInteger(), nullable=True),
        sa.Column('joined_path', sa.String(length=200), nullable=True),
        sa.Column('joined_sha256', sa.String(length=64), nullable=True),
        _fk(t, 'session_id', 'med_recording_sessions.id'),
        _fk(t, 'account_id', 'med_accounts.id'),
        _fk(t, 'party_id', 'med_case_parties.id'),
        _pk(t),
        sa.UniqueConstraint('session_id', 'seat', 'kind', 'number', name=op.f(f'uq_{t}_session_id')),
    )
    _index(t, 'session_id', 'account_id')

    t = 'med_recording_segments'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('track_id', sa.String(length=32), nullable=False),
        sa.Column('index', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('start_us', sa.BigInteger(), nullable=False),
        sa.Column('end_us', sa.BigInteger(), nullable=False),
        sa.Column('frames', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=200), nullable=False),
        sa.Column('recovery', sa.String(length=16), nullable=True),
        _fk(t, 'track_id', 'med_recording_tracks.id'),
        _pk(t),
        sa.UniqueConstraint('track_id', 'index', name=op.f(f'uq_{t}_track_id')),
    )
    _index(t, 'track_id', 'sha256')

    t = 'med_recording_chain'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('segment_id', sa.Integer(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('chain_hash', sa.String(length=64), nullable=False),
        _fk(t, 'session_id', 'med_recording_sessions.id'),
        _fk(t, 'segment_id', 'med_recording_segments.id'),
        _pk(t),
        sa.UniqueConstraint('session_id', 'position', name=op.f(f'uq_{t}_session_id')),
        sa.UniqueConstraint('segment_id', name=op.f(f'uq_{t}_segment_id')),
    )
    _index(t, 'session_id')

    t = 'med_recording_stamps'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('session_id', sa.String(length=32), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('chain_head', sa.String(length=64), nullable=False),
        sa.Column('token', sa.LargeBinary(), nullable=False),
        sa.Column('stamped_at', _TIME, nullable=False),
        sa.Column('final', sa.Boolean(), nullable=False),
        _fk(t, 'session_id', 'med_recording_sessions.id'),
        _pk(t),
    )
    _index(t, 'session_id')


def downgrade() -> None:
    for table in ('med_recording_stamps', 'med_recording_chain', 'med_recording_segments', 'med_recording_tracks',
                  'med_recording_consents', 'med_recording_sessions'):
        op.drop_table(table)
