"""What handlers need, built once by bot.py and kept in the Application's bot_data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handlers.telegram import texts
from handlers.telegram.render import Renderer
from quizzes.push import PushService
from quizzes.service import QuizService
from quizzes.survey import SurveyService
from reports.service import ReportService
from reports.throttle import Throttle
from settings import Settings

if TYPE_CHECKING:
    from handlers.telegram.delivery import Courier
    from handlers.telegram.group import MembershipCache
    from handlers.telegram.push import Pusher

KEY = "deps"


@dataclass
class Deps:
    settings: Settings
    service: ReportService
    render: Renderer
    members: MembershipCache
    courier: Courier
    quizzes: QuizService
    pushes: PushService
    surveys: SurveyService
    pusher: Pusher
    throttle: Throttle


def deps(context: Any) -> Deps:
    """The dependencies of the running application."""
    return context.bot_data[KEY]


async def refused_unless_admin(update: Any, context: Any, refusal: str) -> bool:
    """Reply `refusal` and return True unless the sender is one of the office's admins."""
    if update.effective_user.id in deps(context).settings.admins:
        return False
    await update.effective_message.reply_text(refusal)
    return True


async def refused_unless_admin_in_private(update: Any, context: Any, refusal: str) -> bool:
    """Like `refused_unless_admin`, and an admin in a group hears to ask in private: the
    office's figures and data are not for everyone in a group chat."""
    if await refused_unless_admin(update, context, refusal):
        return True
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        return False
    await update.effective_message.reply_text(texts.PRIVATE_ONLY)
    return True
