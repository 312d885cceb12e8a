"""Shared fixtures: the real classifier (built once) and a running bot against a stand-in."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from settings import load_settings
from simulator import BotApiStandIn
from tests.world import Clock, World, make_runtime, populate, settings_for_tests

ROOT = Path(__file__).resolve().parent.parent

# Property tests: a modest number of examples keeps the pure rules' files at a few
# seconds. No deadline: up to eight helpers share two cores, and a slow example is
# not a wrong one. Under CI the examples are derandomised, so a red build is the
# code's doing and replays as is; locally they vary, and explore more over time.
hypothesis_settings.register_profile("dev", max_examples=100, deadline=None)
hypothesis_settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True, database=None
)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)


@pytest.fixture(scope="session")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The committed keyword tables; jieba takes about a second to load, so once."""
    from runtime import build_classifier

    settings = load_settings(ROOT / "config.toml")
    yield build_classifier(settings)


@asynccontextmanager
async def started_world(
    tmp_path: Path, classifier: object, environ: Mapping[str, str] | None = None, **overrides: Any
) -> AsyncIterator[World]:
    """A running bot with residents, staff and the seven group chats (secrets: `environ`)."""
    async with BotApiStandIn() as api:
        populate(api)
        settings = settings_for_tests(tmp_path / "civic.db", environ, **overrides)
        clock = Clock()
        w = World(api, make_runtime(api, settings, classifier, clock), settings, clock)
        await w.runtime.start()
        try:
            yield w
        finally:
            await w.runtime.stop()


@pytest.fixture
async def world(tmp_path: Path, classifier: object) -> AsyncIterator[World]:
    """A running bot on the committed config (test chats, temporary database)."""
    async with started_world(tmp_path, classifier) as w:
        yield w
