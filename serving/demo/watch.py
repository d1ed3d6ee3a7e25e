"""Follow one version's rollout live from the sidecar's ``/status``.

The sidecar shows the candidate's current step while it works and records ``last_rollout`` (result
and per-step seconds) at the end. Steps are printed as they complete: when the current step moves
on, every step before it is done. A poll can miss a quick step; it is printed when a later one shows.

Example::

    >>> w = RolloutWatch("fuel", after=1)
    >>> [line for line in w.update({"candidate": {"version": 2, "step": "load"}}, 1.0)]
    ['  +1.0s  sidecar picked up fuel version 2', '  +1.0s  downloaded', '  +1.0s  verified']
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterator, TextIO

__all__ = ["RolloutWatch", "RolloutFailed", "STEPS", "follow"]

#: The sidecar's step names, in order, and how the demo says each one is done.
STEPS = {
    "download": "downloaded",
    "verify": "verified",
    "load": "loaded (as a shadow model plant traffic cannot reach)",
    "golden": "golden ok (recorded inputs give the recorded outputs)",
    "latency_probe": "latency ok (p99 against the stable version)",
    "promote": "promoted (label stable moved, the old version kept as previous)",
}


class RolloutFailed(RuntimeError):
    """The sidecar rejected the version, or did not finish in time."""


class RolloutWatch:
    def __init__(self, model: str, after: int | None) -> None:
        """Follows the first version above ``after`` that the sidecar starts rolling out."""
        self.model = model
        self.after = after
        self.version: int | None = None
        self.printed: list[str] = []
        self.noticed = False
        self.finished = False

    def _done_up_to(self, step: str, at: float) -> Iterator[str]:
        order = list(STEPS)
        upto = order.index(step) if step in order else 0
        for name in order[:upto]:
            if name not in self.printed:
                self.printed.append(name)
                yield f"  +{at:.1f}s  {STEPS[name]}"

    def update(self, model_status: dict[str, Any], at: float) -> Iterator[str]:
        """Lines to print for one ``/status`` snapshot of the model, ``at`` seconds after publishing."""
        cand = model_status.get("candidate")
        last = model_status.get("last_rollout") or {}
        if self.version is None:
            for seen in ((cand or {}).get("version"), last.get("version")):
                if isinstance(seen, int) and seen > (self.after or 0):
                    self.version = seen
                    break
        if self.version is None:
            return
        if cand and cand.get("version") == self.version:
            if not self.noticed:
                self.noticed = True
                yield f"  +{at:.1f}s  sidecar picked up {self.model} version {self.version}"
            yield from self._done_up_to(cand.get("step", ""), at)
        if last.get("version") == self.version and last.get("result") == "promoted" and not self.finished:
            self.finished = True
            yield from self._finish(last, at)

    def _finish(self, last: dict[str, Any], at: float) -> Iterator[str]:
        for name in STEPS:
            if name not in self.printed and name in (last.get("steps_seconds") or {}):
                self.printed.append(name)
                yield f"  +{at:.1f}s  {STEPS[name]}"
        steps = last.get("steps_seconds") or {}
        timings = ", ".join(f"{k} {steps[k]:.2f}s" for k in STEPS if isinstance(steps.get(k), (int, float)))
        yield f"  sidecar's step timings: {timings}"

    def outcome(self, model_status: dict[str, Any]) -> str | None:
        """'promoted', 'rejected: ...' or None while undecided."""
        if self.version is None:
            return None
        last = model_status.get("last_rollout") or {}
        labels = model_status.get("labels") or {}
        if last.get("version") == self.version and last.get("result") == "promoted" \
                and labels.get("stable") == self.version:
            return "promoted"
        bad = (model_status.get("bad") or {}).get(str(self.version))
        if bad:
            return f"rejected at {bad.get('reason')}: {bad.get('detail')}"
        return None


def follow(watch: RolloutWatch, status: Callable[[], dict[str, Any]], out: TextIO, timeout_seconds: float,
           tick: Callable[[], None] = lambda: None, interval_seconds: float = 0.05) -> float:
    """Print the steps until the version is promoted; return the seconds it took. Raises RolloutFailed.
    ``tick`` runs at every poll (the demo checks its training child there)."""
    started = time.monotonic()
    while True:
        tick()
        at = time.monotonic() - started
        try:
            model_status = status()["models"][watch.model]
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            if at > timeout_seconds:
                raise RolloutFailed(f"the sidecar's /status is not answering: {exc}") from exc
            time.sleep(interval_seconds)
            continue
        for line in watch.update(model_status, at):
            print(line, file=out, flush=True)
        result = watch.outcome(model_status)
        if result == "promoted":
            return at
        if result is not None:
            raise RolloutFailed(f"the sidecar {result} (version {watch.version} stays out of plant traffic)")
        if at > timeout_seconds:
            step = (model_status.get("candidate") or {}).get("step", "not started")
            raise RolloutFailed(f"{watch.model} version {watch.version or '(new)'} not promoted within "
                                f"--rollout-timeout-seconds={timeout_seconds:g} (step: {step}; "
                                f"sidecar error: {model_status.get('last_error')})")
        time.sleep(interval_seconds)
