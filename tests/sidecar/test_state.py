from serving.sidecar.state import BadMark, ModelState, STATE_FILE, load_state, save_state


def test_round_trip_and_missing_file(tmp_path):
    assert load_state(tmp_path) == ModelState()
    state = ModelState(stable=3, previous=2, previous_until=123.5, bad={4: BadMark("golden", "off by 1", "ab" * 32)})
    save_state(tmp_path, state)
    assert load_state(tmp_path) == state
    assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILE]


def test_corrupt_file_is_an_empty_state(tmp_path):
    (tmp_path / STATE_FILE).write_text("{not json")
    assert load_state(tmp_path) == ModelState()


def test_bad_marks_stay_bounded():
    state = ModelState(bad={v: BadMark("golden", "", "") for v in range(1, 251)})
    state.trim_bad(100)
    assert sorted(state.bad) == list(range(151, 251))
