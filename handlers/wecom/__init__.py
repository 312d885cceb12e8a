"""The WeCom (企业微信) adapter: the working groups on a self-built app of the district's corp.

The callback server takes WeCom's signed, encrypted XML (card presses, members'
texts); the client calls WeCom's API; both speak to the domain only through its
services, like the WeChat and Telegram adapters beside them.
"""
