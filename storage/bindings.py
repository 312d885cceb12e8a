"""Group chats bound from Telegram with /bind; a binding wins over config's chat_id."""

from __future__ import annotations

import aiosqlite


async def bind(
    conn: aiosqlite.Connection, group_key: str, chat_id: int, bound_by: int, now: float
) -> None:
    # A chat serves one group only: rebinding it elsewhere releases the old key.
    await conn.execute(
        "DELETE FROM group_bindings WHERE chat_id = ? AND group_key != ?", (chat_id, group_key)
    )
    await conn.execute(
        "INSERT INTO group_bindings (group_key, chat_id, bound_by, bound_at) VALUES (?,?,?,?)"
        " ON CONFLICT (group_key) DO UPDATE SET chat_id = excluded.chat_id,"
        " bound_by = excluded.bound_by, bound_at = excluded.bound_at",
        (group_key, chat_id, bound_by, now),
    )


async def all_bindings(conn: aiosqlite.Connection) -> dict[str, int]:
    async with conn.execute("SELECT group_key, chat_id FROM group_bindings") as cur:
        rows = await cur.fetchall()
    return {r["group_key"]: r["chat_id"] for r in rows}
