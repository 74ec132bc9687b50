"""Deprecated location of :mod:`runtime._lifecycle` (plumbing, not API); removed after the merge."""

from runtime._lifecycle import LazyClient, OptionsT, check_bound, run_health_check

__all__ = ["LazyClient", "OptionsT", "check_bound", "run_health_check"]
