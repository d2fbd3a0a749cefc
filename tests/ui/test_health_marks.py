"""What the cards show of a run's health: colour, a headline, the sentences, the time per layer."""
from workbench.ui.editing.health_marks import format_time, layer_marks, network_sentences

HEALTH = {"event": "health", "epoch": 1, "global_step": 17, "layers": [], "findings": [
    {"layer": 1, "finding": "fast-updates", "level": "amber", "message": "each step changes these weights by 22 %"},
    {"layer": 1, "finding": "vanishing-gradient", "level": "red", "message": "gradients here are 1,229× smaller"},
    {"layer": 9, "finding": "dead-units", "level": "red", "message": "beyond the network as now drawn"},
    {"layer": None, "finding": "flat-loss", "level": "amber", "message": "the loss is flat"}]}
TIMING = {"event": "timing", "epoch": 1, "global_step": 20, "device": "cpu", "batch_size": 64, "layers": [
    {"layer": 0, "forward_s": 0.0003, "backward_s": 0.00044, "time_share": 0.4, "macs_share": 0.874, "slow": False},
    {"layer": 1, "forward_s": 0.012, "backward_s": 0.0003, "time_share": 0.6, "macs_share": 0.0, "slow": True}]}


def test_the_worst_finding_colours_the_card_and_every_sentence_is_kept():
    marks = layer_marks(HEALTH, TIMING, 2)
    assert marks[0].level is None and marks[0].sentences == []
    assert marks[1].level == "red" and marks[1].headline == "vanishing gradient"
    assert marks[1].sentences == ["each step changes these weights by 22 %", "gradients here are 1,229× smaller"]
    assert marks[0].time == "0.74 ms · 40 % of the time, 87 % of the MACs" and not marks[0].slow
    assert marks[1].slow and marks[1].slow_sentence.startswith("takes 60 % of the time for no MACs")
    assert network_sentences(HEALTH) == ["the loss is flat"]
    assert [m.level for m in layer_marks(None, None, 3)] == [None, None, None]


def test_times_read_in_milliseconds():
    assert [format_time(t) for t in (0.0000099, 0.00004, 0.00074, 0.0123, 1.5)] == [
        "9.9 µs", "40 µs", "0.74 ms", "12 ms", "1.5 s"]


def test_the_model_keeps_the_newest_and_marks_layers_by_id(qtbot):
    from workbench.ui.editing.health_model import HealthModel

    model = HealthModel()
    model.set_network(["a", "b"])
    assert model.marks() == {}
    with qtbot.waitSignal(model.changed):
        model.add_events([{"event": "batch"}, HEALTH, TIMING])
    marks = model.marks()
    assert set(marks) == {"a", "b"} and marks["b"].level == "red" and marks["a"].time.startswith("0.74 ms")
    with qtbot.waitSignal(model.changed):
        model.add_events([{"event": "start", "global_step": 0}])
    assert model.marks() == {}
    model.show_records([TIMING, HEALTH])
    assert model.marks()["b"].headline == "vanishing gradient"
