"""Runs side by side: the metrics table, curves and the architecture diff, and `workbench compare`."""
import json

from workbench.training.compare import compare_runs



def test_two_runs_give_a_metrics_table_curves_and_a_diff(two_runs):
    comparison = compare_runs(list(two_runs))
    small, wide = comparison.runs
    assert (small.name, wide.name) == ("small", "wide")
    assert small.curves.epoch == [1, 2] and wide.curves.epoch == [1, 2, 3]
    assert wide.metrics["epochs"] == 3 and wide.metrics["best_val_loss"] == min(wide.curves.val_loss)
    assert small.metrics["params"] < wide.metrics["params"]
    assert 0 <= small.metrics["val_accuracy"] <= 1
    [diff] = comparison.diffs
    assert comparison.matched_by == ["id"]
    assert [d["status"] for d in diff].count("removed") == 1
    assert next(d for d in diff if d["status"] == "removed")["a"]["type"] == "Dropout"


def test_workbench_compare_prints_a_table_and_json(two_runs, capsys):
    from workbench.cli.compare import main

    assert main([str(p) for p in two_runs]) == 0
    text = capsys.readouterr().out
    assert "best val loss" in text and "wide against small (layers matched by layer id)" in text
    assert "Conv 32 @ 3×3, s1, p1 → Conv 48 @ 3×3, s1, p1" in text and "Dropout 0.25 (removed)" in text
    assert main([str(p) for p in two_runs] + ["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in doc["runs"]] == ["small", "wide"]
    assert doc["runs"][1]["curves"]["epoch"] == [1, 2, 3]
    assert doc["diffs"][0]["matched_by"] == "id"
    assert main([str(two_runs[0])]) == 2
    assert "two or more run folders" in capsys.readouterr().err
    assert main([str(two_runs[0]), str(two_runs[0].parent / "missing")]) == 2
