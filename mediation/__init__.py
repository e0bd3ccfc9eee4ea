"""The case system: accounts and roles, the 7-step mediation workflow with stored deadlines,
docking with the court, and a hash-chained audit trail per case.

It knows nothing of HTTP (``signaling.api.cases`` and ``signaling.api.accounts`` translate) and
reaches rooms and signing only through the seams in ``rooms.py`` and the agreement id it stores.
Start from ``services.build_services``.
"""
