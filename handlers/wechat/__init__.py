"""The WeChat Official Account adapter: residents on the district's service account.

The callback server takes WeChat's signed (and, in safe mode, encrypted) XML,
the client calls WeChat's API; both speak to the domain only through its
services, like the Telegram adapter beside it.
"""
