"""Civility quiz question bank (TOML data files, loader and validator)."""
