"""[storage] takeover_seconds: how soon a dead process's unhandled work is taken over."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import ConfigError
from tests.world import settings_for_tests


def test_takeover_seconds_is_read_from_storage_and_is_30_by_default(tmp_path: Path) -> None:
    assert settings_for_tests(tmp_path / "civic.db").takeover_seconds == 30.0
    quick = settings_for_tests(tmp_path / "civic.db", storage={"takeover_seconds": 3})
    assert quick.takeover_seconds == 3.0


def test_a_takeover_of_no_time_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_for_tests(tmp_path / "civic.db", storage={"takeover_seconds": 0})
    (problem,) = caught.value.problems
    assert problem.startswith("storage.takeover_seconds: ")
