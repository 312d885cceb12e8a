"""Photos kept as bytes, named in drafts and reports as "media:<id>".

A channel whose photo ids other channels cannot use (WeChat's MediaId) keeps
the bytes here when the photo arrives; a channel sending such a photo (the
Telegram group's alert) uploads the bytes. Telegram's own file ids are kept as
they are.
"""

from __future__ import annotations

from reports.context import Part
from storage import media

PREFIX = "media:"


def is_kept(photo: str) -> bool:
    """Whether a photo is one of ours (bytes here), not a channel's own file id."""
    return photo.startswith(PREFIX)


class Media(Part):
    async def keep(self, channel: str, external_id: str, content_type: str, data: bytes) -> str:
        """Store a photo that arrived on `channel`; the name drafts and reports give it."""
        async with self.db.session() as conn:
            media_id = await media.keep(conn, channel, external_id, content_type, data, self.now())
        return f"{PREFIX}{media_id}"

    async def load(self, photo: str) -> bytes | None:
        """The bytes of a kept photo (None if it is not one of ours, or is gone)."""
        if not is_kept(photo) or not photo[len(PREFIX) :].isdigit():
            return None
        async with self.db.session() as conn:
            found = await media.get(conn, int(photo[len(PREFIX) :]))
        return None if found is None else found[1]
