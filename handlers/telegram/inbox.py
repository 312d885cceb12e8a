"""Telegram's updates through the inbox: recorded before PTB acknowledges them.

By polling, a getUpdates answer's updates are recorded together, in one transaction,
as the answer arrives (`RecordingGetUpdates`), before the next getUpdates confirms
them; by webhook, each post is recorded as PTB queues it.

PTB's webhook server answers Telegram 200 once an update is in the Application's
queue, and polling moves its offset past the updates it queued; so the queue is
where an update is recorded (`reports.inbox`). An update that cannot be recorded
because the store fails is handled all the same, so the conversation tells the
resident what could not be saved; any other failure fails the webhook's answer
(Telegram posts the update again) or the poll (fetched again). A redelivery of a
recorded update is dropped there.
"""

from __future__ import annotations

import asyncio
import json
import logging

from telegram import Bot, Update
from telegram.request import RequestData

from handlers.telegram.transport import AiohttpRequest
from reports.inbox import Inbox, InboxUnavailable
from reports.outbox import TELEGRAM
from storage.inbox import Received

log = logging.getLogger("civic")


def sender_of(update: Update) -> str:
    """Whose updates are handled in order: the chat's (a resident's, a group's), else
    the user's (a poll answer has no chat)."""
    if update.effective_chat is not None:
        return f"tg:{update.effective_chat.id}"
    if update.effective_user is not None:
        return f"tg:user:{update.effective_user.id}"
    return f"tg:update:{update.update_id}"


class RecordingQueue(asyncio.Queue[object]):
    """The Application's update queue, recording each update in the inbox on the way in."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox
        # update_id → the update's row in the inbox, until the processor takes it.
        self.rows: dict[int, int] = {}
        # update_id → its row, or None for a redelivery: recorded with its poll's batch.
        self.recorded: dict[int, int | None] = {}

    async def record_batch(self, updates: list[dict[str, object]]) -> None:
        """Record a getUpdates answer's updates in one go (see `RecordingGetUpdates`)."""
        batch = []
        for data in updates:
            update = Update.de_json(data, None)
            key = str(update.update_id)
            batch.append((key, sender_of(update), json.dumps(data, ensure_ascii=False)))
        try:
            rows = await self.inbox.record_many(TELEGRAM, batch)
        except InboxUnavailable:
            return  # each is tried again as it is queued, and handled unrecorded if need be
        for (key, _, _), row in zip(batch, rows, strict=True):
            self.recorded[int(key)] = row

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and item.update_id in self.recorded:
            row = self.recorded.pop(item.update_id)
            if row is None:
                log.info("update %s was delivered again: dropped", item.update_id)
                return
            self.rows[item.update_id] = row
        elif isinstance(item, Update):
            data = json.dumps(item.to_dict(), ensure_ascii=False)
            try:
                row = await self.inbox.record(TELEGRAM, str(item.update_id), sender_of(item), data)
            except InboxUnavailable:
                row = 0  # handled unrecorded, in this process's order only
            if row is None:
                log.info("update %s was delivered again: dropped", item.update_id)
                return
            if row:
                self.rows[item.update_id] = row
        await super().put(item)

    async def resume(self, received: Received, bot: Bot) -> None:
        """Queue an update taken over from a dead process (recorded already)."""
        update = Update.de_json(json.loads(received.payload), bot)
        self.rows[update.update_id] = received.id
        await super().put(update)

    def take_row(self, update: Update) -> int | None:
        """The update's row in the inbox, for the processor to handle it in its turn."""
        return self.rows.pop(update.update_id, None)


class RecordingGetUpdates(AiohttpRequest):
    """The getUpdates transport: records each answer's updates in the inbox on arrival.

    One transaction per answer, rather than one per update as PTB queues them: a
    resident's flood of 100 costs one write, and whoever wrote after it is recorded
    (and answered) without waiting behind 100. PTB asks for the next batch, which
    confirms this one to Telegram, only after this returns.
    """

    def __init__(self, queue: RecordingQueue, **kwargs: float | int | None) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.queue = queue

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: object,
        **kwargs: object,
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(url, method, request_data, *args, **kwargs)  # type: ignore[arg-type]
        if status == 200 and url.endswith("/getUpdates"):
            answer = json.loads(body)
            if answer.get("ok") and answer.get("result"):
                await self.queue.record_batch(answer["result"])
        return status, body
