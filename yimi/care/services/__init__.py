"""Writes of the care part, one module per area of work (records, work, volunteers, ledger).

Every service is keyword-only and atomic, checks :mod:`yimi.care.policy`, writes its audit row
(never with a name or ID number in it: see :func:`.common.care_snapshot`) and, for a child, a
timeline entry.
"""
