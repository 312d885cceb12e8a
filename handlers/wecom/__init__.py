"""The WeCom (企业微信) adapter: the working groups on a self-built app of the district's corp.

Alerts go out as button cards (``template_card``, ``button_interaction``); a member's
press comes back as a signed, encrypted ``template_card_event`` whose response code
updates the card once, and members' texts come back the same way. Group robots only
post (markdown). The client speaks WeCom's API, the callback server takes what
arrives; both speak to the domain only through its services, like the WeChat and
Telegram adapters beside them.
"""
