"""Two architectures diffed layer by layer: matched by id, or by type when they share no id."""
import copy

from workbench.core.diff import diff_summaries
from workbench.core.inference import summarize
from workbench.core.templates import template


def test_layers_are_matched_by_id_and_changes_named():
    a = template("digits-cnn")
    b = copy.deepcopy(a)
    b["layers"][2]["out_channels"] = 48                                   # changed, and what follows it
    b["layers"].insert(5, {"type": "Dropout", "p": 0.1, "id": "new"})   # added
    removed = b["layers"].pop(8)                                         # the ReLU after FC 64
    rows, by = diff_summaries(summarize(a), summarize(b))
    assert by == "id"
    status = {(r["a"] or r["b"])["id"]: r["status"] for r in rows}
    assert status[a["layers"][0]["id"]] == "same"
    assert status[a["layers"][2]["id"]] == "changed"
    assert status["new"] == "added" and status[removed["id"]] == "removed"
    conv = next(r for r in rows if r["b"] is not None and r["b"]["id"] == a["layers"][2]["id"])
    assert conv["changes"] == ["label", "output", "params", "macs"]
    assert (conv["a"]["params"], conv["b"]["params"]) == (16 * 9 * 32 + 32, 16 * 9 * 48 + 48)
    flatten = next(r for r in rows if r["b"] is not None and r["b"]["type"] == "Flatten")
    assert flatten["changes"] == ["output"] and flatten["b"]["output"] == [4 * 4 * 48]
    assert [r["status"] for r in rows].count("same") == 4  # conv 0, its ReLU, the dropout, FC 10


def test_networks_with_no_shared_id_are_matched_by_type_and_position():
    a, b = template("digits-cnn"), template("digits-cnn")  # fresh ids each
    rows, by = diff_summaries(summarize(a), summarize(b))
    assert by == "type" and {r["status"] for r in rows} == {"same"}
    c = template("lenet5")
    rows, by = diff_summaries(summarize(a), summarize(c))
    assert by == "type"
    assert len([r for r in rows if r["a"] is not None]) == len(a["layers"])
    assert len([r for r in rows if r["b"] is not None]) == len(c["layers"])
