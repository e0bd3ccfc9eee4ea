"""Evidence-grade recording of a case's room: per-track capture without transcoding, crash-safe
segments, a time-stamped hash chain, manifests and their verification.

Interface (for ``signaling/`` and the product side; stable — additions only):

``recordings.store.RecordingStore(db, clock)`` over the tables of :mod:`mediation.recording_models`:
    ``start_session(case_id, room_id, policy, started_by=)`` -> ``SessionInfo`` (state ``recording``,
    audited ``recording.started``; a room has at most one running session), ``finish(id, state=, end_us=,
    note=)``, ``record_consent(id, Participant, "consented"|"refused")`` (audited), ``consents(id)``,
    ``add_track``, ``add_segment`` (appends the chain atomically), ``tracks``, ``segments``, ``chain``,
    ``chain_head``, ``add_stamp``, ``stamps``, ``set_manifest(id, sha256)`` (audited
    ``recording.manifest``), ``set_composite(id, path, sha256)``, ``session``, ``sessions_of_case``,
    ``sessions_in_state``. ``Participant(seat, role, case_role, name, account_id, party_id)`` is the
    seat as the case knows it (:class:`mediation.rooms.CaseSeat`). Errors: ``mediation.errors``.

``recordings.storage.LocalRecordingStorage(root)`` (``data_dir / "recordings"``): where files live,
    keyed by a relative path; files 0600. ``path(key)`` gives a local path for range-request serving.

``recordings.session_recorder.SessionRecorder`` — one per recording session:
    ``await SessionRecorder.start(store, storage, timestamper, source=router, case_id=, room_id=,
    policy=, started_by=, settings=RecorderSettings())``; ``await rec.record(participant, kinds)``
    starts writing the seat's tracks of ``kinds`` (default audio and video) — refused
    (``WrongState`` ``consent_missing``) unless ``store.record_consent(session, participant,
    "consented")`` is the seat's answer; ``await rec.stop_participant(seat, kinds)`` (a mute of one
    kind, caucus, consent withdrawn; ``record()`` again resumes the same tracks, numbering on);
    ``await rec.stop(note)`` ends the session and returns the manifest;
    ``rec.progress_us()`` (last frame time per track), ``rec.dropped_frames``.
    ``source`` is anything with ``subscribe_encoded(seat, kind)`` and ``request_keyframe(seat)``
    (:class:`rtc.router.MediaRouter`).

    ``rec.stop()`` also joins each track's segments into one file (``TrackInfo.joined_path``: what
    to play and compose), stamps the final chain head and writes the manifest.

``recordings.recovery.recover_interrupted(store, storage, timestamper, node=)``: at server start,
    closes this node's sessions left ``recording`` (state ``interrupted``); ``RecorderSettings.node``
    (filled by ``signaling.recordings_setup.recorder_settings``) is what marks a session as this node's. Wired by ``signaling.recordings_setup``,
    which also puts ``RECORDING_STORE_KEY``, ``RECORDING_STORAGE_KEY`` and ``RECORDER_SETTINGS_KEY``
    on the app.
``recordings.manifest``: ``build_manifest``/``write_manifest(store, storage, id)`` (canonical JSON
    under ``<session>/manifest.json``; call ``write_manifest`` again after ``set_composite`` so the
    composite's hash is listed and audited).
``recordings.package.write_package(storage, id, path)``: the downloadable zip (blocking).
``recordings.verify``: ``verify_session(store, storage, id, roots)``, ``verify_package(path, roots)``
    -> ``RecordingReport`` (``ok``, ``findings`` with ``code``/``where``/``message``); the CLI is
    ``accord recordings verify SESSION [--package ZIP]``.
"""
