"""What handlers need, built once by the runtime, and the typed context that carries it.

Every handler and job receives a `BotContext`: PTB's `CallbackContext` whose
`deps` is the one `Deps` of the running application, set on its `BotData`
before it starts. The Application is built with `CONTEXT_TYPES` so that PTB
creates these instead of its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from dialogue import texts
from dialogue.group import GroupDialogue
from dialogue.quiz import QuizDialogue
from dialogue.render import Renderer
from dialogue.resident import ResidentDialogue
from quizzes.push import PushService
from quizzes.service import QuizService
from quizzes.survey import SurveyService
from reports.cases import Cases
from reports.drafting import Drafting
from reports.filing import Filing
from reports.group_chats import GroupChats
from reports.leadership import Leadership
from reports.message_refs import MessageRefs
from reports.office import Office
from reports.questions import QuestionService
from reports.ratings import Ratings
from reports.relays import Relays
from reports.residents import Residents
from reports.retention import Retention
from reports.staff import Staff
from reports.throttle import Throttle
from settings import Settings

if TYPE_CHECKING:
    from handlers.telegram.delivery import Courier
    from handlers.telegram.members import MembershipCache
    from handlers.telegram.pusher import Pusher


@dataclass
class Deps:
    settings: Settings
    drafting: Drafting
    filing: Filing
    cases: Cases
    ratings: Ratings
    office: Office
    relays: Relays
    residents: Residents
    group_chats: GroupChats
    retention: Retention
    staff: Staff
    message_refs: MessageRefs
    render: Renderer
    dialogue: ResidentDialogue
    quiz_dialogue: QuizDialogue
    group_dialogue: GroupDialogue
    members: MembershipCache
    courier: Courier
    quizzes: QuizService
    pushes: PushService
    surveys: SurveyService
    pusher: Pusher
    throttle: Throttle
    questions: QuestionService
    leadership: Leadership


class BotData:
    """The Application's bot_data: the dependencies, set once before the application starts."""

    __slots__ = ("deps",)
    deps: Deps


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context of every handler, job and error handler, with the dependencies typed."""

    @property
    def deps(self) -> Deps:
        """The dependencies of the running application."""
        return self.bot_data.deps


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]


async def refused_unless_admin(update: Update, context: BotContext, refusal: str) -> bool:
    """Reply `refusal` and return True unless the sender is one of the office's admins."""
    if update.effective_user.id in context.deps.settings.admins:
        return False
    await update.effective_message.reply_text(refusal)
    return True


async def refused_unless_admin_in_private(
    update: Update, context: BotContext, refusal: str
) -> bool:
    """Like `refused_unless_admin`, and an admin in a group hears to ask in private: the
    office's figures and data are not for everyone in a group chat."""
    if await refused_unless_admin(update, context, refusal):
        return True
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        return False
    await update.effective_message.reply_text(texts.PRIVATE_ONLY)
    return True
