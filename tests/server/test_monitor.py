import threading

from serving.server.monitor import State, StateMonitor
from serving.server.status import Code


def test_versions_newest_first_and_errors_kept():
    m = StateMonitor()
    m.publish("fuel", 1, State.AVAILABLE)
    m.publish("fuel", 3, State.END, Code.DATA_LOSS, "bad warmup")
    m.publish("fuel", 2, State.LOADING)
    assert [v for v, _ in m.versions("fuel")] == [3, 2, 1]
    assert m.get("fuel", 3).message == "bad warmup" and m.available("fuel") == {1}
    assert m.versions("nope") == [] and m.get("fuel", 9) is None


def test_wait_wakes_on_publish_and_times_out():
    m = StateMonitor()
    assert m.wait(lambda: False, timeout=0.05) is False
    ready = threading.Event()

    def later():
        ready.wait(5)
        m.publish("fuel", 1, State.AVAILABLE)

    thread = threading.Thread(target=later)
    thread.start()
    ready.set()
    assert m.wait(lambda: m.available("fuel") == {1}, timeout=10) is True
    thread.join(5)
