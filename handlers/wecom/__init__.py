"""The WeCom (企业微信) adapter: working groups on the district's self-built app.

Alerts go out as button cards (``template_card``, ``button_interaction``); a member's
press comes back as a signed, encrypted ``template_card_event`` whose response code
updates the card once. Group robots only post (markdown). The client speaks WeCom's
protocol; the callback maps what arrives to the domain's services, like the Telegram
and WeChat adapters beside it.
"""
