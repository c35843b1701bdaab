"""Yimi (一米): an open platform for a city's child-friendly city programme."""

__version__ = "0.1.0"
