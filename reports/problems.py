"""The error of a configuration that cannot be used (settings.py re-exports it), here so
that the loaders settings.py calls (reports/areas.py) can raise it without a cycle."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
