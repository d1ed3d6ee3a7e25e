import copy

from serving.sidecar.compat import incompatibilities
from tests.sidecar.models import SIGNATURES


def variant(**edits):
    sig = copy.deepcopy(SIGNATURES)
    for path, value in edits.items():
        node = sig["serving_default"]
        *parents, leaf = path.split("__")
        for p in parents:
            node = node[p]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    return sig


def test_identical_is_compatible():
    assert incompatibilities(SIGNATURES, SIGNATURES) == []


def test_widening_a_dim_is_compatible():
    old = {"s": {"inputs": {"image": {"dtype": "DT_FLOAT", "shape": [-1, 28, 28, 1]}}, "outputs": {}}}
    new = {"s": {"inputs": {"image": {"dtype": "DT_FLOAT", "shape": [-1, -1, 28, 1]}}, "outputs": {}}}
    assert incompatibilities(old, new) == []
    assert incompatibilities(new, old) == ["s: input 'image' dim 1: -1 -> 28"]


def test_each_break_is_named():
    assert any("dtype DT_FLOAT -> DT_INT64" in p for p in incompatibilities(
        SIGNATURES, variant(inputs__weight={"dtype": "DT_INT64", "shape": [-1]})))
    assert any("input names" in p for p in incompatibilities(SIGNATURES, variant(inputs__origin=None)))
    assert any("rank 1 -> 2" in p for p in incompatibilities(
        SIGNATURES, variant(inputs__origin={"dtype": "DT_FLOAT", "shape": [-1, 1]})))
    assert any("output 'mpg' removed" in p for p in incompatibilities(SIGNATURES, variant(outputs__mpg=None)))
    assert incompatibilities(SIGNATURES, {}) == ["signature 'serving_default' removed"]


def test_an_added_output_is_compatible():
    assert incompatibilities(SIGNATURES, variant(outputs__extra={"dtype": "DT_FLOAT", "shape": [-1]})) == []
