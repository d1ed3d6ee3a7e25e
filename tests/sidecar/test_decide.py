from hypothesis import given, strategies as st

from serving.sidecar.decide import rollback_reason, startup_version, target_version, usable
from serving.sidecar.pointer import RolloutPointer
from serving.sidecar.server_metrics import Window
from serving.sidecar.state import BadMark, ModelState

BAD = BadMark("golden", "", "", pointer_generation=3)


def test_newest_usable_above_stable():
    state = ModelState(stable=2, bad={4: BAD})
    assert target_version(RolloutPointer(), state, [2], [1, 2, 3, 4]) == 3
    assert target_version(RolloutPointer(blocked=(3,)), state, [2], [1, 2, 3, 4]) is None


def test_pin_wins_even_downwards_but_only_if_known():
    state = ModelState(stable=3)
    assert target_version(RolloutPointer(pinned=1), state, [3], [1, 2, 3]) == 1
    assert target_version(RolloutPointer(pinned=9), state, [3], [1, 2, 3]) is None


def test_a_pin_overrides_a_bad_mark_only_when_newer():
    state = ModelState(stable=1, bad={4: BAD})
    assert not usable(RolloutPointer(pinned=4, generation=3), state, 4)
    assert usable(RolloutPointer(pinned=4, generation=4), state, 4)


def test_blocked_stable_falls_back_to_previous_then_newest_usable():
    assert target_version(RolloutPointer(blocked=(3,)), ModelState(stable=3, previous=2), [2, 3], [1, 2, 3]) == 2
    assert target_version(RolloutPointer(blocked=(3, 2)), ModelState(stable=3, previous=2), [2, 3], [1, 2, 3]) == 1


def test_startup_prefers_pin_then_saved_stable_then_newest():
    assert startup_version(RolloutPointer(pinned=1), ModelState(stable=2), [2], [1, 2, 3]) == 1
    assert startup_version(RolloutPointer(), ModelState(stable=2), [2], [1, 2, 3]) == 2
    assert startup_version(RolloutPointer(), ModelState(), [], [1, 2, 3]) == 3
    assert startup_version(RolloutPointer(), ModelState(), [1], []) == 1  # store unreachable
    assert startup_version(RolloutPointer(blocked=(3,)), ModelState(bad={2: BAD}), [], [1, 2, 3]) == 1


@given(st.lists(st.integers(1, 50), max_size=10), st.sets(st.integers(1, 50)), st.integers(1, 50))
def test_target_is_never_blocked(store, blocked, stable):
    target = target_version(RolloutPointer(blocked=tuple(sorted(blocked))), ModelState(stable=stable), [stable], store)
    assert target is None or target not in blocked


def test_rollback_reason():
    quiet = Window({"OK": 5, "INTERNAL": 5}, {})
    assert rollback_reason(quiet, error_ratio=0.05, p99_ms=0, min_requests=20) is None
    spike = Window({"OK": 90, "INVALID_ARGUMENT": 10}, {})
    assert "error ratio 0.100" in rollback_reason(spike, error_ratio=0.05, p99_ms=0, min_requests=20)
    slow = Window({"OK": 100}, {1000.0: 50, 250000.0: 100, float("inf"): 100})
    assert rollback_reason(slow, error_ratio=0.05, p99_ms=0, min_requests=20) is None
    assert "p99 250.0 ms" in rollback_reason(slow, error_ratio=0.05, p99_ms=100, min_requests=20)
