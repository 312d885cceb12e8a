"""The Telegram boundary: updates become service calls, results become messages.

The only package that imports `telegram`.
"""
