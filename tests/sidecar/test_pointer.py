import pytest
from hypothesis import given, strategies as st

from serving.sidecar.pointer import PointerError, RolloutPointer, read_pointer, write_pointer
from serving.store import open_store

versions = st.integers(min_value=1, max_value=10_000)


@given(st.one_of(st.none(), versions), st.sets(versions), st.sets(versions))
def test_json_round_trip(pinned, blocked, allowed):
    p = RolloutPointer(pinned=pinned, blocked=tuple(sorted(blocked)), allow_breaking_change=tuple(sorted(allowed)))
    assert RolloutPointer.from_json(p.to_json()) == p


def test_pin_unblocks_and_block_unpins():
    p = RolloutPointer().with_blocked(3).with_pinned(3)
    assert p.pinned == 3 and p.eligible(3)
    p = p.with_blocked(3)
    assert p.pinned is None and not p.eligible(3)
    assert p.with_unblocked(3).eligible(3)


def test_pin_can_allow_a_breaking_change():
    assert RolloutPointer().with_pinned(4, allow_breaking=True).allows_breaking(4)
    assert not RolloutPointer(allow_breaking_change=(2,)).allows_breaking(4)


@pytest.mark.parametrize("text", ["[]", "{\"pinned\": 0}", "{\"blocked\": [\"x\"]}", "not json"])
def test_garbage_is_a_pointer_error(text):
    with pytest.raises(PointerError):
        RolloutPointer.from_json(text)


def test_read_absent_is_empty_and_write_bumps_generation(tmp_path):
    store = open_store(str(tmp_path), create=True)
    assert read_pointer(store, "fuel") == RolloutPointer()
    first = write_pointer(store, "fuel", RolloutPointer().with_pinned(2))
    second = write_pointer(store, "fuel", first.with_blocked(5))
    got = read_pointer(store, "fuel")
    assert (got.pinned, got.blocked, got.generation) == (2, (5,), 2) and second.generation == 2
    assert got.updated_at and "@" in got.updated_by


def test_signed_pointer_round_trip_and_refusals(tmp_path):
    from serving.signing import SigningConfig, load_signer, load_trust
    from serving.sidecar.pointer import PointerSignatureError
    from tests.tls import write_key_pair

    key, pub = write_key_pair(tmp_path, "operator")
    other_key, _ = write_key_pair(tmp_path, "intruder")
    store = open_store(str(tmp_path / "store"), create=True)
    trust = load_trust([pub])
    assert read_pointer(store, "fuel", trust=trust) == RolloutPointer()  # nothing written yet

    write_pointer(store, "fuel", RolloutPointer().with_pinned(2), signer=load_signer(SigningConfig(key=key)))
    assert store.read_bytes("fuel/rollout.json.sig")
    assert read_pointer(store, "fuel", trust=trust).pinned == 2

    def refused() -> str:
        with pytest.raises(PointerSignatureError) as info:
            read_pointer(store, "fuel", trust=trust)
        assert isinstance(info.value, PointerError)  # the sidecar keeps its last good pointer
        return info.value.reason

    # someone with bucket access edits the pointer, keeping the old signature
    store.write_bytes("fuel/rollout.json", RolloutPointer(pinned=1, generation=9).to_json().encode())
    assert refused() == "tampered"
    # ... or signs it with a key nobody trusts
    write_pointer(store, "fuel", RolloutPointer().with_blocked(2), signer=load_signer(SigningConfig(key=other_key)))
    assert refused() == "unknown_key"
    # ... or writes it unsigned: the stale signature goes, the refusal says so
    write_pointer(store, "fuel", RolloutPointer().with_blocked(2))
    assert not store.exists("fuel/rollout.json.sig")
    assert refused() == "unsigned"
    assert read_pointer(store, "fuel").blocked == (2,)  # without trust anchors: read as before
    # a pointer signed for another model cannot be replayed onto this one
    write_pointer(store, "defect", RolloutPointer().with_pinned(1), signer=load_signer(SigningConfig(key=key)))
    store.write_bytes("fuel/rollout.json", store.read_bytes("defect/rollout.json"))
    store.write_bytes("fuel/rollout.json.sig", store.read_bytes("defect/rollout.json.sig"))
    assert refused() == "tampered"


# -- PointerFollower: what a sidecar follows, poll after poll ------------------------------------------
def _follower_world(tmp_path):
    from serving.signing import SigningConfig, load_signer, load_trust
    from tests.tls import write_key_pair

    key, pub = write_key_pair(tmp_path, "operator")
    other_key, _ = write_key_pair(tmp_path, "intruder")
    store = open_store(str(tmp_path / "store"), create=True)
    return store, load_signer(SigningConfig(key=key)), load_signer(SigningConfig(key=other_key)), load_trust([pub])


def test_follower_keeps_the_last_good_pointer_and_says_why(tmp_path):
    from serving.sidecar.pointer import PointerFollower

    store, signer, intruder, trust = _follower_world(tmp_path)
    follower = PointerFollower(store, "fuel", trust, tmp_path / "volume")
    assert follower.read() == RolloutPointer() and follower.refusal is None  # nothing written yet: fine
    good = write_pointer(store, "fuel", RolloutPointer().with_pinned(2), signer=signer)
    assert follower.read() == good and follower.refusal is None

    def refused(reason: str) -> str:
        assert follower.read() == good and follower.refusal_reason == reason
        assert "keeping the last good pointer (generation 1, pinned 2" in follower.refusal
        return follower.refusal

    write_pointer(store, "fuel", good.with_blocked(2))  # unsigned
    assert "refused (unsigned)" in refused("unsigned")
    write_pointer(store, "fuel", good.with_blocked(2), signer=intruder)
    refused("unknown_key")
    newer = write_pointer(store, "fuel", good.with_blocked(7), signer=signer)  # generation 2
    assert follower.read() == newer and follower.refusal is None
    # an old, validly signed pointer written back (replay)
    store.write_bytes("fuel/rollout.json", good.to_json().encode())
    store.write_bytes("fuel/rollout.json.sig", signer.sign_bytes("fuel/rollout.json", good.to_json().encode()))
    assert follower.read() == newer and follower.refusal_reason == "replay"
    assert "generation 1, below generation 2" in follower.refusal
    # deleted: keep the last good one
    store.delete("fuel/rollout.json")
    assert follower.read() == newer and follower.refusal_reason == "deleted"


def test_the_last_good_pointer_survives_a_sidecar_restart(tmp_path):
    from serving.sidecar.pointer import MEMORY_FILE, PointerFollower

    store, signer, _intruder, trust = _follower_world(tmp_path)
    good = write_pointer(store, "fuel", RolloutPointer().with_pinned(4), signer=signer)
    PointerFollower(store, "fuel", trust, tmp_path / "volume").read()
    assert (tmp_path / "volume" / MEMORY_FILE).is_file()
    write_pointer(store, "fuel", good.with_pinned(1))  # unsigned, while the sidecar was down
    restarted = PointerFollower(store, "fuel", trust, tmp_path / "volume")
    assert restarted.pointer == good  # before any read: bootstrap acts on the remembered pointer
    assert restarted.read() == good and restarted.refusal_reason == "unsigned"
    # a memory file edited on the volume is not believed
    memory = tmp_path / "volume" / MEMORY_FILE
    memory.write_text(memory.read_text().replace('\\"pinned\\": 4', '\\"pinned\\": 1'))
    assert PointerFollower(store, "fuel", trust, tmp_path / "volume").pointer == RolloutPointer()


def test_without_an_anchor_the_follower_reads_as_before(tmp_path):
    from serving.sidecar.pointer import MEMORY_FILE, PointerFollower

    store = open_store(str(tmp_path / "store"), create=True)
    follower = PointerFollower(store, "fuel", None, tmp_path / "volume")
    first = write_pointer(store, "fuel", RolloutPointer().with_pinned(3))
    assert follower.read() == first
    store.write_bytes("fuel/rollout.json", b"not json")
    assert follower.read() == first and follower.refusal_reason == "invalid"
    store.delete("fuel/rollout.json")
    assert follower.read() == RolloutPointer() and follower.refusal is None
    assert not (tmp_path / "volume" / MEMORY_FILE).exists()
