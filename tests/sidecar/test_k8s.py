import json

from serving.sidecar.k8s import ANNOTATION, KubeReporter


class FakeApi:
    def __init__(self):
        self.events, self.patches = [], []

    def create_namespaced_event(self, namespace, body):
        self.events.append((namespace, body))

    def patch_namespaced_pod(self, name, namespace, body):
        self.patches.append((name, namespace, body))


def test_event_targets_the_pod():
    api = FakeApi()
    KubeReporter("pod-a", "plants", api=api).event("fuel", "Rejected", "golden differs", warning=True)
    namespace, body = api.events[0]
    assert namespace == "plants" and body["involvedObject"]["name"] == "pod-a"
    assert body["type"] == "Warning" and body["reason"] == "Rejected" and body["message"].startswith("fuel:")


def test_annotation_is_patched_once_per_change():
    api = FakeApi()
    r = KubeReporter("pod-a", "plants", api=api)
    r.annotate({"fuel": {"stable": 2}})
    r.annotate({"fuel": {"stable": 2}})
    r.annotate({"fuel": {"stable": 3}})
    assert len(api.patches) == 2
    assert json.loads(api.patches[-1][2]["metadata"]["annotations"][ANNOTATION]) == {"fuel": {"stable": 3}}


def test_api_errors_never_escape():
    class Broken(FakeApi):
        def create_namespaced_event(self, namespace, body):
            raise RuntimeError("forbidden")

    KubeReporter("pod-a", "plants", api=Broken()).event("fuel", "Promoted", "v3")
