"""The reporting domain: classification, routing, case states and report services.

Records (`records.py`, `outbox.py`) and pure rules (`states.py`,
`deadlines.py`, `keywords.py`, `tickets.py`, `geo.py`, ...) import nothing of
ours but each other, so `storage/` and `settings.py` may build them; the
services (one module per concern, sharing `context.Shared`) apply the rules
and call `storage/`. Keep this file free of imports: `storage/` imports the
records through it.
"""
