import numpy as np
import pytest

from serving.sidecar.probe import GoldenError, golden_inputs, p99
from serving.store.manifest import Golden, Manifest, PrimaryMetric


def test_p99_nearest_rank():
    assert p99([3.0]) == 3.0
    assert p99(list(range(1, 101))) == 99
    assert p99([1.0] * 200 + [50.0] * 3) == 50.0


class Timed:
    """A ServerClient stand-in on a fake clock: each predict takes the time given for its model."""

    def __init__(self, delays):
        self.delays, self.calls, self.now = delays, [], 0.0

    def predict(self, name, inputs, *, version=None, signature_name="serving_default"):
        self.calls.append(name)
        delay = self.delays[name]
        self.now += delay.pop(0) if isinstance(delay, list) else delay
        return {}


def probe(client, requests=20):
    from serving.sidecar.probe import latency_probe

    return latency_probe(client, candidate=("c", 2), stable=("s", 1), inputs={}, signature_name="serving_default",
                         requests=requests, ratio=1.5, slack_ms=2.0, pause_seconds=0, timer=lambda: client.now)


def test_probe_interleaves_and_passes_a_similar_candidate():
    client = Timed({"c": 0.001, "s": 0.001})
    result = probe(client)
    assert client.calls[:4] == ["c", "s", "c", "s"] and len(client.calls) == 40
    assert result.candidate_p99_ms == result.stable_p99_ms == 1.0 and result.allowed_p99_ms == 3.0


def test_probe_ignores_one_hiccup_but_rejects_a_slow_candidate():
    import pytest

    from serving.sidecar.probe import LatencyError

    probe(Timed({"c": [0.05] + [0.001] * 19, "s": 0.001}))
    with pytest.raises(LatencyError, match="candidate p99 4.00 ms > allowed 3.00 ms"):
        probe(Timed({"c": 0.004, "s": 0.001}))


def manifest(dtypes: dict[str, str], inputs: dict) -> Manifest:
    sig = {"serving_default": {"inputs": {n: {"dtype": d, "shape": [-1]} for n, d in dtypes.items()}, "outputs": {}}}
    return Manifest("defect", 3, [], sig, {}, PrimaryMetric("acc", "max", 0.0), "fp",
                    golden=Golden("serving_default", inputs, {}))


def test_golden_inputs_take_every_dtype_a_tensor_proto_carries():
    arrays = golden_inputs(manifest({"image": "DT_UINT8", "mask": "DT_BOOL", "id": "DT_INT64", "tag": "DT_STRING",
                                     "w": "DT_HALF"},
                                    {"image": [[0, 255]], "mask": [True], "id": [7], "tag": ["a"], "w": [0.5],
                                     "x": [1.5]}))
    assert arrays["image"].dtype == np.uint8 and arrays["image"].tolist() == [[0, 255]]
    assert arrays["mask"].dtype == np.bool_ and arrays["id"].dtype == np.int64 and arrays["w"].dtype == np.float16
    assert arrays["tag"].dtype == object and arrays["x"].dtype == np.float32  # no dtype in the manifest: DT_FLOAT


@pytest.mark.parametrize("dtypes, inputs, error", [
    ({"h": "DT_RESOURCE"}, {"h": [1]}, "dtype DT_RESOURCE, which no TensorProto carries"),
    ({"h": "DT_NOPE"}, {"h": [1]}, "dtype DT_NOPE"),
    ({"image": "DT_UINT8"}, {"image": [300]}, "golden input 'image' is not DT_UINT8"),
])
def test_golden_inputs_that_cannot_be_sent_are_golden_errors(dtypes, inputs, error):
    with pytest.raises(GoldenError, match=error):
        golden_inputs(manifest(dtypes, inputs))


# -- the explain golden (issue 14): explanations must reproduce and keep completeness -------------
def _explained_manifest(explain=True):
    from serving.store.manifest import ExplainSpec

    sig = {"serving_default": {"inputs": {"x": {"dtype": "DT_FLOAT", "shape": [-1]}}, "outputs": {}},
           "explain": {"inputs": {"x": {"dtype": "DT_FLOAT", "shape": [-1]}}, "outputs": {}}}
    golden = Golden("serving_default", {"x": [1.0, 2.0]}, {"y": [2.0, 4.0]})
    spec = ExplainSpec("explain", "integrated_gradients", 64, {}, {}, ["x"], "y", "baseline_y",
                       golden=Golden("explain", {"x": [1.0, 2.0]},
                                     {"y": [2.0, 4.0], "baseline_y": [0.0, 0.0], "attributions": [2.0, 4.0],
                                      "completeness_error": [0.0, 0.0]}, rtol=1e-3, atol=1e-4))
    return Manifest(model="fuel", version=3, files=[], signatures=sig, metrics={},
                    primary_metric=PrimaryMetric("mae", "min", 1.0), data_fingerprint="t", golden=golden,
                    explain=spec if explain else None)


class Explaining:
    """Answers serving_default and explain like an exported model; ``tamper`` changes one explain output."""

    def __init__(self, tamper=None, missing=False):
        self.tamper, self.missing, self.signatures = tamper or {}, missing, []

    def predict(self, name, inputs, *, version=None, signature_name="serving_default"):
        from serving.sidecar.tfserving import ServerError

        self.signatures.append(signature_name)
        x = np.asarray(inputs["x"], np.float64)
        if signature_name == "serving_default":
            return {"y": 2 * x}
        if self.missing:
            import grpc

            raise ServerError('Serving signature key "explain" not found.', grpc.StatusCode.FAILED_PRECONDITION)
        out = {"y": 2 * x, "baseline_y": 0 * x, "attributions": 2 * x, "completeness_error": 0 * x}
        out.update({k: np.asarray(v, np.float64) for k, v in self.tamper.items()})
        return out


def test_explanations_are_replayed_with_the_golden():
    from serving.sidecar.probe import replay_golden

    client = Explaining()
    replay_golden(client, "fuel", 3, _explained_manifest())
    assert client.signatures == ["serving_default", "explain"]
    old = Explaining()
    replay_golden(old, "fuel", 3, _explained_manifest(explain=False))
    assert old.signatures == ["serving_default"], "a version from before explain is not asked for it"


@pytest.mark.parametrize("client, expected", [
    (Explaining(tamper={"attributions": [2.0, 9.0]}), "explain: output 'attributions' differs"),
    (Explaining(tamper={"completeness_error": [0.0, 0.5]}), "explain completeness: row 1"),
    (Explaining(missing=True), "'explain' signature does not answer"),
])
def test_explanations_that_do_not_reproduce_reject_the_version(client, expected):
    from serving.sidecar.probe import replay_golden

    with pytest.raises(GoldenError, match=expected):
        replay_golden(client, "fuel", 3, _explained_manifest())
