"""Group chats bound from Telegram with /bind; a binding wins over config's chat_id."""

from __future__ import annotations

from storage.db import Connection, execute, fetch_all


async def bind(
    conn: Connection, group_key: str, chat_id: int, bound_by: int | None, now: float
) -> None:
    """Bind a group to a chat; `bound_by` is the admin who sent /bind (None: Telegram moved
    the group to a supergroup)."""
    # A chat serves one group only: rebinding it elsewhere releases the old key.
    await execute(
        conn,
        "DELETE FROM group_bindings WHERE chat_id = ? AND group_key != ?",
        (chat_id, group_key),
    )
    await execute(
        conn,
        "INSERT INTO group_bindings (group_key, chat_id, bound_by, bound_at) VALUES (?,?,?,?)"
        " ON CONFLICT (group_key) DO UPDATE SET chat_id = excluded.chat_id,"
        " bound_by = excluded.bound_by, bound_at = excluded.bound_at",
        (group_key, chat_id, bound_by, now),
    )


async def all_bindings(conn: Connection) -> dict[str, int]:
    rows = await fetch_all(conn, "SELECT group_key, chat_id FROM group_bindings")
    return {r["group_key"]: r["chat_id"] for r in rows}
