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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: runs on PostgreSQL (a listed module's copy, or pg.needs_server)"
    )
    config.addinivalue_line("markers", "slow: takes half a minute or more; run first")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With a server, a listed module's test that starts a bot runs on both engines.

    Both copies are items of the one session, so xdist spreads them all over the cores.
    """
    if pg.ADMIN_URL is None or "classifier" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("postgres"):
        return  # PostgreSQL only: once
    if metafunc.definition.path.relative_to(ROOT).as_posix() not in pg.listed_modules():
        return
    metafunc.parametrize(
        "engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long tests first, so the cores share the rest behind them rather than one
    core finishing one alone; without a server, what must run on PostgreSQL is skipped
    (and says why)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable
    if pg.ADMIN_URL is not None:
        return
    skip = pytest.mark.skip(reason="no PostgreSQL server: DATABASE_URL is not set")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """The database engine the test's bot runs on: "postgres" for a test so marked."""
    on_postgres = request.node.get_closest_marker("postgres") is not None
    pg.run_on_postgres(on_postgres)
    yield "postgres" if on_postgres else "sqlite"
    pg.run_on_postgres(False)


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
    """A fresh PostgreSQL database's URL when the test runs there; else None (SQLite)."""
    if not pg.on_postgres():
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
