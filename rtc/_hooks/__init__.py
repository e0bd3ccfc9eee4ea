"""The parts of ``rtc.aiortc_hooks`` split out by concern; import them through that module."""
