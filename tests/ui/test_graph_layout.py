"""The builder's geometry without a window: a chain flows and wraps as text, a band breaks where fewer
connections cross, a merge's ports follow where its connections come from, wrapped connections share a tag."""
from workbench.core import graph
from workbench.core.templates import template
from workbench.ui.editing.graph_layout import Metrics, layout

M = Metrics(card_h=100, gap=20, lane_gap=20, margin=10, top=10, track=12, port_dy=40, port_step=10, tag_char=7)


def lay(layers, widths, avail):
    places = graph.lanes(layers)
    return layout(places, graph.edges(layers, places), widths, M, avail)


def test_a_chain_flows_left_to_right_and_wraps_like_text() -> None:
    layers = [{"type": "ReLU", "id": f"l{i}"} for i in range(7)]
    widths = [150, 150, 80, 150, 80, 150, 150, 80]  # the Input card, then the layers
    result = lay(layers, widths, 500)
    expected, x, y = [], 10, 10
    for w in widths:  # the text rule: a card that does not fit starts the next line
        if x + w > 500 - 10 and x > 10:
            x, y = 10, y + 100 + 20
        expected.append((x, y))
        x += w + 20
    assert [(b.x, b.y) for b in result.boxes] == expected
    assert all(not r.skip and len(r.points) == 2 for r in result.routes)  # plain arrows, none across lines
    assert len(result.routes) == sum(1 for a, b in zip(expected, expected[1:]) if a[1] == b[1])


def test_an_inception_block_starts_a_band_whole_rather_than_cut_after_its_stem() -> None:
    layers = template("inception-block")["layers"]
    result = lay(layers, [150] * (len(layers) + 1), 1100)
    stem = result.box(next(i for i, layer in enumerate(layers) if layer["id"] == "stem"))
    heads = [result.box(i) for i, layer in enumerate(layers) if layer["id"] in ("b1x1", "b3x3_reduce", "b5x5_reduce", "bpool")]
    assert len(heads) == 4 and {b.x for b in heads} == {stem.x + 150 + 20}  # one column, right after the stem
    assert len({b.y for b in heads}) == 4 and heads[0].y == stem.y  # four lanes, the first beside the stem


def test_a_shortcut_arcs_over_its_block_and_enters_the_add_above_the_main_line() -> None:
    layers = template("resnet-20")["layers"]
    result = lay(layers, [150] * (len(layers) + 1), 5000)  # one band: nothing wraps
    add = next(i for i, layer in enumerate(layers) if layer["id"] == "l1b1_add")
    shortcut = next(r for r in result.routes if r.target == add and r.skip)
    box = result.box(add)
    assert min(y for _, y in shortcut.points) < box.y  # over the cards, in the channel above them
    ports = sorted((p.y, p.source) for p in result.ports if p.target == add)
    assert [source for _, source in ports] == [shortcut.source, add - 1]  # from above: the upper port


def test_connections_into_a_merge_on_the_next_band_share_one_tag() -> None:
    layers = template("inception-block")["layers"]
    result = lay(layers, [150] * (len(layers) + 1), 900)
    mixed = next(i for i, layer in enumerate(layers) if layer["id"] == "mixed")
    into = [r for r in result.routes if r.target == mixed and not r.from_card]
    assert len(into) == 4 and [r.label for r in into if r.label] == ["#4 #8 #12 #15 →"]
