"""SQLite storage through aiosqlite: schema, migrations and one module per aggregate.

Imports nothing of ours, so every channel and service can share it.
"""
