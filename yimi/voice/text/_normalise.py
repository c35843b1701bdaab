"""Normalising letter text for matching while keeping a map back to the original characters.

Children (and spammers) write full-width letters and digits, put spaces or dots between
characters ("笨 蛋", "加 Ｖ") and paste zero-width characters. Matching runs on the
normalised text; hits are reported with offsets into the original through ``index``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
# Fillers dropped when they stand between two CJK characters: "笨 蛋", "笨.蛋", "笨*蛋".
_FILLERS = frozenset(" \t\r\n\u3000.·・*_-—~|/\\、")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph (the basic and extension-A blocks)."""
    return bool(_CJK.fullmatch(ch))


@dataclass(frozen=True)
class Normalised:
    """Normalised ``text`` and, for each of its characters, the index in the original."""

    text: str
    index: tuple[int, ...]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` span of the normalised text back to the original."""
        if end <= start:
            pos = self.index[start] if start < len(self.index) else len(self.original)
            return pos, pos
        return self.index[start], self.index[end - 1] + 1


def normalise(text: str, *, lower: bool = True) -> Normalised:
    """NFKC per character, lower-case, zero-width characters removed, fillers between CJK removed."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in _ZERO_WIDTH:
            continue
        folded = unicodedata.normalize("NFKC", ch)
        if lower:
            folded = folded.lower()
        for c in folded:
            chars.append(c)
            index.append(i)
    # Drop runs of fillers whose neighbours are both CJK characters.
    keep = [True] * len(chars)
    i = 0
    while i < len(chars):
        if chars[i] in _FILLERS:
            j = i
            while j < len(chars) and chars[j] in _FILLERS:
                j += 1
            if i > 0 and j < len(chars) and is_cjk(chars[i - 1]) and is_cjk(chars[j]):
                for k in range(i, j):
                    keep[k] = False
            i = j
        else:
            i += 1
    out = "".join(c for c, k in zip(chars, keep, strict=True) if k)
    idx = tuple(n for n, k in zip(index, keep, strict=True) if k)
    return Normalised(text=out, index=idx, original=text)
