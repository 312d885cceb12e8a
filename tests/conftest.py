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
from tests import pg
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
    async with BotApiStandIn() as api, _database() as url:
        populate(api)
        if url is not None:
            overrides = {**overrides, "storage": {**overrides.get("storage", {}), "url": url}}
        settings = settings_for_tests(tmp_path / "civic.db", environ, **overrides)
        clock = Clock()
        w = World(api, make_runtime(api, settings, classifier, clock), settings, clock)
        await w.runtime.start()
        try:
            yield w
        finally:
            await w.runtime.stop()


@asynccontextmanager
async def _database() -> AsyncIterator[str | None]:
    """A fresh PostgreSQL database's URL when DATABASE_URL is set; else None (SQLite)."""
    if pg.ADMIN_URL is None:
        yield None
        return
    async with pg.fresh_database() as url:
        yield url


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the PostgreSQL template database, if the run made one."""
    pg.drop_template()


@pytest.fixture
async def world(tmp_path: Path, classifier: object) -> AsyncIterator[World]:
    """A running bot on the committed config (test chats, temporary database)."""
    async with started_world(tmp_path, classifier) as w:
        yield w
