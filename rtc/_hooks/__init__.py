"""aiortc/aioice private internals, one module per concern (the codec side is ``rtc/aiortc_hooks.py``).

Each module has a ``check_compatibility()`` that names every internal it relies on which
changed shape; ``rtc.router`` runs them at import, before installing anything.
"""
