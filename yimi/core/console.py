"""The one way the CLI prints: plain lines, and a tqdm progress bar per stage of long work."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm


class StageProgress:
    """A progress callback ``(stage, done, total)`` that draws one bar per stage."""

    def __init__(
        self, labels: dict[str, str] | None = None, *, enabled: bool = True, stream=None
    ) -> None:
        self.labels = labels or {}
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._bar: tqdm | None = None
        self._stage: str | None = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = tqdm(
                total=total,
                desc=self.labels.get(stage, stage),
                unit="",
                file=self.stream,
                leave=True,
                dynamic_ncols=True,
            )
        assert self._bar is not None
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def simple_progress(callback: StageProgress, stage: str) -> Callable[[int, int], None]:
    return lambda done, total: callback(stage, done, total)
