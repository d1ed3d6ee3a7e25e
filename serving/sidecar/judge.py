"""Judging the version promoted last, inside its rollback window, from the server's own metrics.

The window runs from a baseline snapshot taken at the promotion. Two things must never pass for a bad
version:

- **A server restart.** Its counters start again from zero, and until the sidecar applies the labels
  again, requests on ``stable`` fail with "Unrecognized servable version label" (our doing, not the
  version's). A restart shows as a new connection epoch or as a counter lower than the baseline's; the
  window then starts again from the first snapshot taken after the labels are back, so the requests of
  the gap never count.
- **No data.** When the metrics page cannot be read, nothing is judged: the verdict says so, and the
  worker warns and counts it (``plantserve_rollout_judging_blind_total``).

Example::

    >>> from serving.sidecar.server_metrics import Snapshot
    >>> judge = PromotionJudge()
    >>> judge.start(Snapshot({"OK": 10.0}, {}), epoch=1)
    >>> judge.judge(Snapshot({"OK": 3.0}, {}), epoch=2).note
    'the server restarted (connection epoch 1 -> 2): judging again from now'
    >>> judge.judge(Snapshot({"OK": 6.0, "INTERNAL": 2.0}, {}), epoch=2).window.error_ratio
    0.4
"""
from __future__ import annotations

import dataclasses

from .server_metrics import Snapshot, Window

__all__ = ["PromotionJudge", "Verdict"]


@dataclasses.dataclass(frozen=True)
class Verdict:
    #: The requests since the baseline; None when there is nothing to judge this time.
    window: Window | None
    #: Why there is no window (a restart re-baselined, no metrics), for the log and /status.
    note: str | None = None
    #: True when the metrics could not be read at all.
    blind: bool = False


class PromotionJudge:
    """The baseline of the current window. Not thread-safe: one model's worker owns it."""

    def __init__(self) -> None:
        self.baseline: Snapshot | None = None
        self.epoch: int | None = None
        #: A promotion with no baseline yet (taken at the next successful scrape).
        self.pending = False

    @property
    def active(self) -> bool:
        return self.pending or self.baseline is not None

    def start(self, snapshot: Snapshot | None, epoch: int) -> None:
        """A promotion happened: judge from ``snapshot`` (None: from the next one that can be read)."""
        self.baseline, self.epoch, self.pending = snapshot, epoch, snapshot is None

    def stop(self) -> None:
        self.baseline, self.epoch, self.pending = None, None, False

    def judge(self, snapshot: Snapshot | None, epoch: int, error: str | None = None) -> Verdict:
        if snapshot is None:
            return Verdict(None, f"no server metrics ({error or 'unreadable'}): the promoted version is not judged",
                           blind=True)
        if self.baseline is None:
            self.baseline, self.epoch, self.pending = snapshot, epoch, False
            return Verdict(None, "baseline taken")
        if epoch != self.epoch:
            note = f"the server restarted (connection epoch {self.epoch} -> {epoch}): judging again from now"
            self.baseline, self.epoch = snapshot, epoch
            return Verdict(None, note)
        window = snapshot.since(self.baseline)
        if window is None:
            self.baseline = snapshot
            return Verdict(None, "the server's counters went back (it restarted): judging again from now")
        return Verdict(window)
