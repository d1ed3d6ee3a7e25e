"""wait_for_state: a version's END from an earlier unload is not the end of the load just asked for."""
from serving.sidecar.rollout import ended_before, wait_for_state


class ScriptedStatus:
    """GetModelStatus answers for one version, one per call; the last one repeats."""

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), 0

    def status(self, name):
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return {} if answer is None else {2: answer}


def test_a_stale_end_waits_for_the_new_load():
    ended = ("END", "")
    client = ScriptedStatus(ended, ended, ("LOADING", ""), ("AVAILABLE", ""))
    assert wait_for_state(client, "fuel", 2, 5, poll_seconds=0.001, stale=ended) == ("AVAILABLE", "")
    assert client.calls == 4


def test_a_new_failure_after_a_stale_end_is_reported():
    ended = ("END", "")
    client = ScriptedStatus(ended, ("END", "could not load"))
    assert wait_for_state(client, "fuel", 2, 5, poll_seconds=0.001, stale=ended) == ("END", "could not load")


def test_an_unchanged_end_counts_after_the_grace_period():
    failed = ("END", "NOT_FOUND: no variables")
    client = ScriptedStatus(failed)
    assert wait_for_state(client, "fuel", 2, 30, poll_seconds=0.001, stale=failed,
                          stale_grace_seconds=0.05) == failed


def test_without_a_stale_end_the_first_end_counts():
    client = ScriptedStatus(("END", ""))
    assert wait_for_state(client, "fuel", 2, 5, poll_seconds=0.001) == ("END", "")
    assert client.calls == 1


def test_ended_before_reads_only_an_end():
    assert ended_before(ScriptedStatus(("END", "x")), "fuel", 2) == ("END", "x")
    assert ended_before(ScriptedStatus(("AVAILABLE", "")), "fuel", 2) is None
    assert ended_before(ScriptedStatus(None), "fuel", 2) is None
