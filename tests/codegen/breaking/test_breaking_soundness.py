"""Property-based soundness of the breaking gate on random schema pairs.

For random pairs of versions over the admitted keyword subset (objects open and closed, enums
mixing booleans and numbers, nullable ``anyOf``/``oneOf``, nested arrays, ``$ref``\\ s across two
files), every instance that one version admits and the other rejects (decided by jsonschema-rs
and confirmed by the gate's own validator) must be matched by the gate reporting that role broken
for that definition (or a definition it uses). Every counterexample ever found is kept in
``soundness_corpus.json`` and replayed.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import breaking_support as support
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).with_name("soundness_corpus.json")
#: Random pairs per run: each is one hypothesis example (derandomized: the same pairs every run).
PAIRS = 5000


def test_no_separating_instance_escapes_the_gate(capsys: pytest.CaptureFixture[str]) -> None:
    stats = {"seeds": set(), "broken": 0, "alarms": 0}

    @settings(
        max_examples=PAIRS,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(seed=st.integers(min_value=0, max_value=2**32 - 1))
    def one_pair(seed: int) -> None:
        rng = random.Random(seed)
        old, new = support.pair(rng)
        result = support.check_pair(old, new, rng)
        assert not result["misses"], json.dumps(
            {"seed": seed, "old": old, "new": new, "misses": result["misses"]}
        )
        if seed not in stats["seeds"]:
            stats["seeds"].add(seed)
            stats["broken"] += result["broken"]
            stats["alarms"] += len(result["alarms"])

    one_pair()
    pairs, broken, alarms = len(stats["seeds"]), stats["broken"], stats["alarms"]
    with capsys.disabled():
        print(
            f"\nbreaking soundness: {pairs} distinct pairs, 0 missed breaks, {broken} broken roles "
            f"reported, {alarms} without a separating instance found "
            f"({100 * alarms / max(broken, 1):.1f} %, an upper bound on false alarms)"
        )
    assert pairs >= PAIRS * 0.95


def _entries() -> list[dict[str, Any]]:
    return support.corpus(CORPUS)


@pytest.mark.parametrize("entry", _entries(), ids=[e["name"] for e in _entries()])
def test_corpus_counterexample_is_separating_and_reported(entry: dict[str, Any]) -> None:
    area, name, role = entry["area"], entry["definition"], entry["role"]
    before = support.Oracle(entry["old"], area, name).confirmed(entry["instance"])
    after = support.Oracle(entry["new"], area, name).confirmed(entry["instance"])
    assert (before, after) == ((True, False) if role == "writers" else (False, True))
    result = support.check_pair(entry["old"], entry["new"], random.Random(0))
    assert not result["misses"]
    assert role in support.reported_roles(entry["old"], entry["new"], area, name)
