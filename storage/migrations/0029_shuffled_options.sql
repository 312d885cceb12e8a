-- A quiz question's options are shuffled each time it is sent: the order shown is kept
-- with its poll (a JSON list, the bank's index of each option as shown), so an answer
-- given by what the resident saw is scored by the bank's indexes, even after a restart.
-- Polls sent before this column existed showed the bank's order: NULL.
ALTER TABLE quiz_polls ADD COLUMN shown_order TEXT;
