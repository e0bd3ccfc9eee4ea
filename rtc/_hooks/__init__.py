"""aiortc/aioice private internals, by concern (see ``rtc/aiortc_hooks.py`` for the codec side).

Every module here checks at import time-independent ``check_compatibility()`` what it relies on;
``rtc.router`` calls them before installing anything.
"""
