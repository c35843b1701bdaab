"""Settings for bench/voice: Yimi's own settings with the mailbox rate limits turned off.

The limits (5 letters and 30 look-ups per 10 minutes per address) would answer 429 to all but
the first few requests of 50 clients on one address; the benchmark measures the stack behind
them. Nothing else changes."""

from yimi.settings import *  # noqa: F403

YIMI_VOICE_RATE_LIMITS = {"submit": (10**9, 600), "lookup": (10**9, 600)}
