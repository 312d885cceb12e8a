"""SQLite storage through aiosqlite: schema, migrations and one module per aggregate.

Imports nothing of ours but the domain's records (`reports/records.py`,
`reports/outbox.py`, `quizzes/records.py`), which it builds from rows and
returns, so every channel and service can share it.
"""
