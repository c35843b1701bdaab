"""Reads of the voice part, one module per area of work."""
