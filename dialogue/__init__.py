"""The conversation, written once for every channel: what residents and staff read
(`texts`), the domain's records rendered as texts with choices (`render`), and the
data behind each choice (`callbacks`).

A channel adapter shows a text its own way and turns the choices into its own
controls (inline buttons on Telegram, a msgmenu with numbered fallbacks on
WeChat); a press comes back as the choice's data, which `callbacks.parse` checks.
"""
