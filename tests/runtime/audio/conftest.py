"""Fixtures for the audio tests: the real-encoder corpus, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_corpus import Sample, build, missing_tools


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    missing = missing_tools()
    if missing:
        pytest.skip(f"audio encoders missing: {', '.join(missing)} (tools/ensure-services.sh)")
    return build(tmp_path_factory.mktemp("audio-corpus"))


@pytest.fixture(scope="session")
def by_name(corpus: list[Sample]) -> dict[str, bytes]:
    return {sample.name: sample.data for sample in corpus}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path
