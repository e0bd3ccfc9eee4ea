"""The media plane: a selective forwarding unit built on aiortc.

Encoded frames are forwarded between participants without decoding or re-encoding.
``router.MediaRouter`` is the entry point ``signaling/`` uses; ``aiortc_hooks`` is the only
module that touches aiortc internals.
"""
