"""Draft → locked → superseded: the hash is fixed at lock, edits after it make a new version."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from agreement_samples import sample_agreement
from signing.agreement_versions import AgreementStore, VersionError, VersionStatus, atomic_write


async def test_lock_fixes_the_hash_of_the_stored_pdf(tmp_path: Path) -> None:
    store = AgreementStore(tmp_path)
    draft = await store.create(sample_agreement(), created_by="mediator:1")
    assert draft.status is VersionStatus.DRAFT
    with pytest.raises(VersionError) as info:
        store.pdf_path(draft)
    assert info.value.code == "not_locked"
    locked = await store.lock(draft.agreement_id, 1)
    assert locked.status is VersionStatus.LOCKED
    pdf = await store.read_pdf(locked)
    assert hashlib.sha256(pdf).hexdigest() == locked.locked_sha256
    assert [s.field_name for s in locked.slots][0] == "sig_01_party_zhang"
    # A fresh store on the same directory (a restart) sees the same state.
    assert AgreementStore(tmp_path).current(draft.agreement_id) == locked


async def test_edit_of_a_draft_stays_in_place(tmp_path: Path) -> None:
    store = AgreementStore(tmp_path)
    draft = await store.create(sample_agreement(), created_by="m")
    edited = await store.edit(draft.agreement_id, sample_agreement(place="上海"), edited_by="m")
    assert edited.version == 1 and edited.data.place == "上海"


async def test_edit_after_lock_makes_a_new_version_and_supersedes_the_old(tmp_path: Path) -> None:
    store = AgreementStore(tmp_path)
    draft = await store.create(sample_agreement(), created_by="m")
    await store.lock(draft.agreement_id, 1)
    v2 = await store.edit(draft.agreement_id, sample_agreement(place="上海"), edited_by="m")
    assert v2.version == 2 and v2.status is VersionStatus.DRAFT
    old = store.version(draft.agreement_id, 1)
    assert old.status is VersionStatus.SUPERSEDED and old.superseded_at is not None
    assert (await store.read_pdf(old))[:5] == b"%PDF-"  # the old text stays on record
    with pytest.raises(VersionError) as info:
        await store.lock(draft.agreement_id, 1)
    assert info.value.code == "version_outdated"
    v2_locked = await store.lock(draft.agreement_id, 2)
    assert v2_locked.locked_sha256 != old.locked_sha256
    with pytest.raises(VersionError) as info:
        await store.lock(draft.agreement_id, 2)
    assert info.value.code == "already_locked"


@pytest.mark.parametrize("bad_id", ["../etc", "ag_../../x", "ag_0123", "AG_0123456789ABCDEF", ""])
async def test_agreement_ids_cannot_escape_the_directory(tmp_path: Path, bad_id: str) -> None:
    with pytest.raises(VersionError) as info:
        AgreementStore(tmp_path).current(bad_id)
    assert info.value.code == "agreement_not_found"


def test_atomic_write_replaces_whole_files_and_leaves_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write(target, b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
