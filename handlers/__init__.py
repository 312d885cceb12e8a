"""The channel adapters: one package per messaging channel (today `telegram`).

Only these packages import a messaging SDK. An adapter turns what arrives
from its channel into calls on the services of `reports/` and `quizzes/`, and
renders what they answer (texts and choices) in its channel's own way.
"""
