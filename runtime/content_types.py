"""Deprecated location of content sniffing, now :mod:`runtime.validation`; removed at merge."""

from runtime.validation import SNIFF_BYTES, normalize_content_type, sniff_content_type

__all__ = ["SNIFF_BYTES", "normalize_content_type", "sniff_content_type"]
