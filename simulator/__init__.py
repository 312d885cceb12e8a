"""A local stand-in for the Telegram Bot API, for tests and the browser demo.

Typical test use::

    standin = BotApiStandIn()
    standin.add_user(1001, "张三")
    await standin.start()
    app = (
        ApplicationBuilder()
        .token(standin.token)
        .base_url(standin.base_url)
        .base_file_url(standin.base_file_url)
        .build()
    )
    ...  # add handlers, initialize, start polling
    standin.send_text(1001, "/start")
    reply = await standin.next_sent(1001)
    callback_id = standin.press(1001, reply.raw, reply.button_data("上报"))
    await standin.answer_to(callback_id)

The web chat for people is served at ``standin.web_url``.
"""

from simulator.server import (
    ApiError,
    ApiRequest,
    BotApiStandIn,
    FailureKind,
    SentMessage,
    StoredFile,
    UploadedFile,
    png,
    solid_png,
)

__all__ = [
    "ApiError",
    "ApiRequest",
    "BotApiStandIn",
    "FailureKind",
    "SentMessage",
    "StoredFile",
    "UploadedFile",
    "png",
    "solid_png",
]
