"""Kept for imports written against 1.0: the TUS client now lives in :mod:`runtime.storage._tus`.

Only the client and its constants are re-exported; the connection and error plumbing it used to
list is private now.
"""

from runtime.storage._tus import TUS_CHUNK_SIZE_BYTES, TUS_VERSION, TusUpload

__all__ = ["TUS_CHUNK_SIZE_BYTES", "TUS_VERSION", "TusUpload"]
