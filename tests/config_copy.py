"""A copy of the committed config in a test's folder, with the data folders it names."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The folders config.toml names by relative path: keyword tables, the quiz bank, the
# office's answers, the areas file.
DATA_FOLDERS = ("keywords", "quizzes", "faq", "areas")


def link_data_folders(folder: Path) -> None:
    """Make the committed config's data reachable from a config written in `folder`."""
    for name in DATA_FOLDERS:
        (folder / name).symlink_to(ROOT / name)
