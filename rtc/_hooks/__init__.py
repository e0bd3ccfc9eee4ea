"""aiortc/aioice private internals, one module per concern, reached through ``rtc.aiortc_hooks``
(the codec side lives there).

Each module has a check that names every internal it relies on which changed shape; they run at
import, before anything is installed.
"""
