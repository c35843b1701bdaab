"""Writes of the voice part, one module per area of work (mailbox, moderation, handling …)."""
