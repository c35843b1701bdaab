"""How personal values are shown to people who may not see them: one convention everywhere
(lists, orders, ledger exports and diffs). Plain module, no Django.

- names: the surname and two stars, whatever the length (``张**``): the length says something too;
- ID numbers: :func:`yimi.care.identity.mask_id_number` (``110***********1234``);
- phone numbers: the first 3 and last 4 digits (``138****5678``);
- free text (address, school, health …): only that something is there (``演***``).
"""

from __future__ import annotations

from .identity import mask_id_number

__all__ = ["mask_id_number", "mask_name", "mask_phone", "mask_text"]


def mask_name(name: str | None) -> str:
    name = (name or "").strip()
    return name[0] + "**" if name else ""


def mask_phone(phone: str | None) -> str:
    # The same rule as ID numbers: first 3 and last 4 kept, short values fully masked.
    return mask_id_number(phone)


def mask_text(text: str | None) -> str:
    if not text:
        return ""
    return text[0] + "***" if len(text) > 1 else "*"
