"""Composing a draft: a resident's text, photos, place and category before 确认."""

from __future__ import annotations

import dataclasses

from reports.classifier import Classification, Classifier
from reports.context import Part, Shared
from reports.errors import (
    BadLocation,
    DraftClosed,
    DraftNotFound,
    FloodLimited,
    TextTooLong,
    TooManyPhotos,
    UnknownCategory,
)
from reports.records import Draft
from settings import FALLBACK_CATEGORY
from storage import drafts
from storage.db import Connection


async def own_open_draft(conn: Connection, resident_id: int, draft_id: int) -> Draft:
    """The resident's own draft, still open; else DraftNotFound or DraftClosed."""
    draft = await drafts.get(conn, draft_id)
    if draft is None or draft.resident_id != resident_id:
        raise DraftNotFound()
    if draft.status != "open":
        raise DraftClosed(draft)
    return draft


def check_location(latitude: float, longitude: float) -> None:
    """Refuse a point off the globe (NaN included): it would be stored, mapped, compared."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadLocation(f"({latitude}, {longitude}) is not on the globe")


class Drafting(Part):
    """Open a draft from a message, let the resident complete it, or cancel it."""

    def __init__(self, shared: Shared, classifier: Classifier) -> None:
        super().__init__(shared)
        self.classifier = classifier

    def classify(self, text: str) -> Classification:
        return self.classifier.classify(text)

    def is_placed(self, draft: Draft) -> bool:
        """Whether the bot is sure enough of the category to propose it."""
        return (
            draft.category != FALLBACK_CATEGORY
            and draft.confidence >= self.settings.reports.min_confidence
        )

    def area_of(
        self, latitude: float | None, longitude: float | None, address: str | None, text: str
    ) -> str | None:
        """The key of the area a draft is placed in (see Areas.place), if any."""
        area = self.settings.areas.place(latitude, longitude, address, text)
        return area.key if area else None

    async def _update(self, conn: Connection, draft: Draft, **fields: object) -> Draft:
        """Set the draft's fields and place it again: its place or its words may have changed."""
        placed = dataclasses.replace(draft, **fields)  # type: ignore[arg-type]
        fields["area"] = self.area_of(
            placed.latitude, placed.longitude, placed.address, placed.text
        )
        return await drafts.update(conn, draft.id, self.now(), **fields)

    def check_text(self, text: str) -> None:
        if len(text) > self.settings.reports.max_text_chars:
            raise TextTooLong(self.settings.reports.max_text_chars)

    async def start_draft(
        self,
        resident_id: int,
        text: str,
        photo: str | None = None,
        media_group_id: str | None = None,
    ) -> Draft:
        """Open a new draft from a message, classified; refuse beyond the hourly limit."""
        text = text.strip()
        self.check_text(text)
        result = self.classify(text) if text else Classification(FALLBACK_CATEGORY, 0.0, (), {})
        now = self.now()
        async with self.db.session() as conn:
            draft = await drafts.insert(
                conn,
                resident_id=resident_id,
                text=text,
                category=result.category,
                confidence=result.confidence,
                keywords=result.keywords,
                photos=(photo,) if photo else (),
                media_group_id=media_group_id,
                now=now,
                unless_reports_since=(now - 3600, self.settings.reports.max_per_hour),
            )
        if draft is None:
            raise FloodLimited()
        area = self.area_of(None, None, None, text)
        if area:
            async with self.db.session() as conn:
                draft = await drafts.update(conn, draft.id, draft.updated_at, area=area)
        return draft

    async def open_draft(self, resident_id: int) -> Draft | None:
        """The draft that photos and locations sent now would join, if any."""
        since = self.now() - self.settings.reports.draft_minutes * 60
        async with self.db.session() as conn:
            return await drafts.latest_open(conn, resident_id, since)

    async def add_photo(self, resident_id: int, draft_id: int, file_id: str, caption: str) -> Draft:
        """Attach a photo (and its caption) to an open draft."""
        caption = caption.strip()
        async with self.db.transaction() as conn:
            draft = await own_open_draft(conn, resident_id, draft_id)
            if file_id in draft.photos:
                return draft
            if len(draft.photos) >= self.settings.reports.max_photos:
                raise TooManyPhotos(self.settings.reports.max_photos)
            fields: dict[str, object] = {"photos": (*draft.photos, file_id)}
            if caption:
                text = f"{draft.text}\n{caption}".strip()
                self.check_text(text)
                fields["text"] = text
                if not self.is_placed(draft):
                    result = self.classify(text)
                    fields |= {
                        "category": result.category,
                        "confidence": result.confidence,
                        "keywords": result.keywords,
                    }
            return await self._update(conn, draft, **fields)

    async def describe(self, resident_id: int, draft_id: int, text: str) -> Draft:
        """Give a draft that began as a photo or a location its description."""
        text = text.strip()
        self.check_text(text)
        result = self.classify(text)
        async with self.db.transaction() as conn:
            draft = await own_open_draft(conn, resident_id, draft_id)
            fields: dict[str, object] = {"text": text}
            if not self.is_placed(draft):
                fields |= {
                    "category": result.category,
                    "confidence": result.confidence,
                    "keywords": result.keywords,
                }
            return await self._update(conn, draft, **fields)

    async def set_location(
        self, resident_id: int, draft_id: int, latitude: float, longitude: float
    ) -> Draft:
        check_location(latitude, longitude)
        async with self.db.transaction() as conn:
            draft = await own_open_draft(conn, resident_id, draft_id)
            return await self._update(conn, draft, latitude=latitude, longitude=longitude)

    async def set_address(self, resident_id: int, draft_id: int, address: str) -> Draft:
        address = " ".join(address.split())[:200]
        async with self.db.transaction() as conn:
            draft = await own_open_draft(conn, resident_id, draft_id)
            return await self._update(conn, draft, address=address)

    async def choose_category(self, resident_id: int, draft_id: int, category: str) -> Draft:
        if category not in self.settings.categories:
            raise UnknownCategory(category)
        async with self.db.transaction() as conn:
            draft = await own_open_draft(conn, resident_id, draft_id)
            # The resident's own choice is certain.
            return await drafts.update(
                conn, draft.id, self.now(), category=category, confidence=1.0
            )

    async def cancel(self, resident_id: int, draft_id: int) -> Draft:
        async with self.db.transaction() as conn:
            draft = await own_open_draft(conn, resident_id, draft_id)
            closed = await drafts.close(conn, draft.id, "cancelled", self.now(), None)
            assert closed is not None
            return closed

    async def get_draft(self, resident_id: int, draft_id: int) -> Draft:
        async with self.db.session() as conn:
            draft = await drafts.get(conn, draft_id)
        if draft is None or draft.resident_id != resident_id:
            raise DraftNotFound()
        return draft
