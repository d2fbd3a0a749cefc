"""The course's worked examples as lessons: a project to load, a layer to select, a view to open,
captions to step through, and the numbers the course gives (which the tests check against inference
and torch).

Qt-free data. The window loads `lesson.project`, selects `lesson.layer`, opens `lesson.view`
("arithmetic", "summary", "training" or "latent") and shows the steps in a LessonPlayer; for
arithmetic lessons `lesson.arithmetic` is the grid the arithmetic view slides its window over.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from workbench.core.arithmetic import StepThrough, step_through
from workbench.core.branched_templates import basic_block
from workbench.core.graph import INPUT, renew_ids
from workbench.core.project import validate_project
from workbench.core.templates import template

VIEWS = ("arithmetic", "summary", "training", "latent")

Grid = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class ArithmeticSetup:
    """A 2-D grid and the window that slides over it: a kernel (convolution) or a pooling kind."""

    grid: Grid
    kernel: Grid | None = None
    pooling: str | None = None
    size: int | None = None  # F; a convolution takes it from the kernel
    stride: int = 1
    padding: int = 0

    def run(self, pooling: str | None = None) -> StepThrough:
        """The step-through; `pooling` swaps the pooling kind to compare max, average and L2."""
        return step_through(self.grid, kernel=self.kernel, pooling=pooling or self.pooling, size=self.size,
                            stride=self.stride, padding=self.padding)


@dataclass(frozen=True)
class LessonStep:
    """One slide of a lesson in presentation mode."""

    caption: str
    windows: int | None = None  # arithmetic: how many windows are computed (the last one highlighted)
    pooling: str | None = None  # arithmetic: the pooling kind shown at this step
    layer: int | None = None  # the layer to select at this step (None: the lesson's layer)


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    group: str
    caption: str
    spec: str | dict  # a template name or a project dict; `project` validates a fresh copy
    layer: int | None
    view: str
    steps: tuple[LessonStep, ...]
    arithmetic: ArithmeticSetup | None = None
    # The course's numbers. Keys: "output" (the selected layer's [C, H, W] or [N]), "params",
    # "params_unshared", "per_neuron", "per_slice_unshared", "total_params", "volumes" (the output of
    # every conv and pooling layer), "grid" (the arithmetic's output grid), "first_output", "code".
    expected: dict[str, Any] = field(default_factory=dict)

    @property
    def project(self) -> dict:
        """A full, validated workbench project (a fresh copy with new layer ids each time)."""
        doc = template(self.spec) if isinstance(self.spec, str) else copy.deepcopy(self.spec)
        doc["name"] = self.title
        doc = validate_project(doc)
        doc["layers"] = renew_ids(doc["layers"])  # two loads never share a layer id
        return validate_project(doc)


def _grid(*rows: str) -> Grid:
    return tuple(tuple(float(v) for v in row.split()) for row in rows)


def _conv_project(input_shape: list[int], k: int, f: int, s: int = 1, p: int = 0) -> dict:
    return {"input": input_shape,
            "layers": [{"type": "Conv2d", "out_channels": k, "kernel_size": f, "stride": s, "padding": p}]}


def _neuron_project(input_shape: list[int]) -> dict:
    # bias off: the slide counts the weights of one fully connected neuron (3,072), not its bias
    return {"input": input_shape, "layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 1, "bias": False}]}


def _residual_project() -> dict:
    """ResNet-18's first two blocks on their real numbers: one that keeps 56×56×64, one that halves
    the size and doubles the depth (28×28×128), its shortcut a 1×1 Conv2d with stride 2."""
    return {"input": [64, 56, 56],
            "layers": basic_block("keep", INPUT, 64) + basic_block("down", "keep_out", 128, 2, projection=True)}


def _with_training(name: str, **training: Any) -> dict:
    doc = template(name)
    doc["training"] = {**doc["training"], **training}
    return doc


# A 7×7 picture with a vertical edge between dark (left) and bright (right) columns; the slide's
# own figure is lost in the text, so any numbers do: these make the output light up at the edge.
EDGE_7X7 = _grid("3 1 0 2 7 9 8", "1 0 2 1 8 9 9", "2 1 1 0 9 8 9", "0 2 1 1 7 9 8",
                 "1 0 2 2 8 9 7", "2 1 0 1 9 8 9", "0 1 1 2 8 9 9")
VERTICAL_EDGE = _grid("-1 0 1", "-1 0 1", "-1 0 1")

# The zero-padding slide (after draj0718's "Zero padding in CNNs"). From the slide's text: 139 85 (end
# of row 1), 84 128 (end of row 2) and rows 3-5 in full. The first three values of rows 1-2 sit under
# the figure's kernel overlay and are lost in the OCR; 60 113 56 / 73 121 54 restore the widely
# reproduced original figure, whose first output 60·5 − 113 − 73 = 114 they give back.
PATCH_5X5 = _grid("60 113 56 139 85", "73 121 54 84 128", "131 99 70 129 127", "80 57 115 69 134",
                  "104 126 123 95 130")
SHARPEN = _grid("0 -1 0", "-1 5 -1", "0 -1 0")

POOL_4X4 = _grid("1 1 2 4", "5 6 7 8", "3 2 1 0", "1 2 3 4")

_LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "stride-1", "7×7 input, 3×3 filter, stride 1 → 5×5", "Convolution arithmetic",
        "One 3×3 filter slides over a 7×7 input one pixel at a time: 1 + (7 − 3 + 2·0)/1 = 5, so the "
        "output is 5×5.",
        _conv_project([1, 7, 7], 1, 3), 0, "arithmetic",
        (LessonStep("The filter sits on the top-left 3×3 window: the output is the sum of the nine products.", 1),
         LessonStep("Stride 1: the window moves one column to the right, and the next output is computed.", 2),
         LessonStep("Five positions fit across a row of 7: 1 + (7 − 3)/1 = 5.", 5),
         LessonStep("Row by row the 5×5 output fills in. It is large where the filter meets the edge.", 25)),
        ArithmeticSetup(EDGE_7X7, kernel=VERTICAL_EDGE),
        {"output": [1, 5, 5], "formula": "1 + (7 − 3 + 2·0)/1 = 5"},
    ),
    Lesson(
        "stride-2", "7×7 input, 3×3 filter, stride 2 → 3×3", "Convolution arithmetic",
        "The same filter with stride 2 skips every other position: 1 + (7 − 3 + 2·0)/2 = 3, so the output "
        "is 3×3 — a smaller volume than with stride 1.",
        _conv_project([1, 7, 7], 1, 3, s=2), 0, "arithmetic",
        (LessonStep("The window starts at the top-left corner, as before.", 1),
         LessonStep("Stride 2: the window jumps two columns at a time.", 2),
         LessonStep("Three positions fit across a row: 1 + (7 − 3)/2 = 3.", 3),
         LessonStep("The 3×3 output: nine windows instead of 25.", 9)),
        ArithmeticSetup(EDGE_7X7, kernel=VERTICAL_EDGE, stride=2),
        {"output": [1, 3, 3], "formula": "1 + (7 − 3 + 2·0)/2 = 3"},
    ),
    Lesson(
        "zero-padding", "Zero padding: a 3×3 sharpening kernel keeps 5×5", "Convolution arithmetic",
        "A border of zeros (P = 1) lets the 3×3 window centre on every pixel, so the output keeps the "
        "input's 5×5 size: 1 + (5 − 3 + 2·1)/1 = 5. The kernel sharpens: 5× the centre minus its four "
        "neighbours.",
        _conv_project([1, 5, 5], 1, 3, p=1), 0, "arithmetic",
        (LessonStep("The padded input: a border of zeros around the 5×5 patch.", 0),
         LessonStep("The first window hangs over the border: 60·5 − 113 − 73 = 114.", 1),
         LessonStep("The next window: 113·5 − 60 − 56 − 121 = 328.", 2),
         LessonStep("Every pixel gets an output: 5×5 in, 5×5 out.", 25)),
        ArithmeticSetup(PATCH_5X5, kernel=SHARPEN, padding=1),
        {"output": [1, 5, 5], "formula": "1 + (5 − 3 + 2·1)/1 = 5", "first_output": 114,
         "grid": [[114, 328, -26, 470, 158], [53, 266, -61, -30, 344], [403, 116, -47, 295, 244],
                  [108, -135, 256, -128, 344], [314, 346, 279, 153, 421]]},
    ),
    Lesson(
        "max-pooling", "Max pooling: 2×2 windows, stride 2 on a 4×4 slice", "Convolution arithmetic",
        "Max pooling keeps the largest value of each 2×2 window (F = 2, S = 2): the 4×4 slice becomes 2×2, "
        "1 + (4 − 2)/2 = 2. No parameters. Average and L2 pooling use the same windows.",
        {"input": [1, 4, 4], "layers": [{"type": "MaxPool2d", "kernel_size": 2}]}, 0, "arithmetic",
        (LessonStep("The top-left window holds 1, 1, 5, 6: max pooling keeps 6.", 1),
         LessonStep("Stride 2: the next window (2, 4, 7, 8) gives 8.", 2),
         LessonStep("The 4×4 slice becomes [[6, 8], [3, 4]].", 4),
         LessonStep("Average pooling on the same windows: [[3.25, 5.25], [2, 2]].", 4, pooling="average"),
         LessonStep("L2-norm pooling: the square root of the sum of squares.", 4, pooling="l2")),
        ArithmeticSetup(POOL_4X4, pooling="max", size=2, stride=2),
        {"output": [1, 2, 2], "grid": [[6, 8], [3, 4]], "params": 0,
         "average": [[3.25, 5.25], [2, 2]]},
    ),
    Lesson(
        "receptive-field", "32×32×3 input, 5×5 receptive field: 76 parameters", "Parameters",
        "A neuron of a conv layer sees a 5×5 region through the full depth of the 32×32×3 input: "
        "5·5·3 = 75 weights + 1 bias = 76 parameters.",
        _conv_project([3, 32, 32], 1, 5), 0, "summary",
        (LessonStep("The input: a 32×32 colour image, depth 3."),
         LessonStep("Each neuron connects to a 5×5×3 region: local in width and height, full in depth."),
         LessonStep("5·5·3 weights + 1 bias = 76 parameters per neuron.")),
        expected={"output": [1, 28, 28], "params": 76, "per_neuron": 76},
    ),
    Lesson(
        "fc-cifar10", "A fully connected neuron on a CIFAR-10 image: 3,072 weights", "Parameters",
        "A fully connected layer treats the 32×32×3 image as a vector of 3,072 values, so each of its "
        "neurons has 3,072 weights (the bias is left out, as on the slide).",
        _neuron_project([3, 32, 32]), 1, "summary",
        (LessonStep("Flatten unrolls the 32×32×3 image: 32·32·3 = 3,072 values."),
         LessonStep("One fully connected neuron has a weight for every value: 3,072 weights.")),
        expected={"output": [1], "params": 3072},
    ),
    Lesson(
        "fc-400x400", "A fully connected neuron on 400×400×3: 480,000 weights", "Parameters",
        "On a 400×400×3 image the same neuron needs 400·400·3 = 480,000 weights: fully connected layers "
        "do not scale to images.",
        _neuron_project([3, 400, 400]), 1, "summary",
        (LessonStep("Flatten: 400·400·3 = 480,000 values."),
         LessonStep("One neuron, 480,000 weights. A layer of 1,000 such neurons: 480 million.")),
        expected={"output": [1], "params": 480_000},
    ),
    Lesson(
        "alexnet-conv1", "AlexNet's first layer: 55×55×96, parameter sharing", "Parameters",
        "227×227×3 input, 96 filters, F = 11, S = 4, P = 0: 1 + (227 − 11 + 2·0)/4 = 55, so 55×55×96. "
        "With parameter sharing each depth slice uses one filter: 11·11·3 + 1 = 364 parameters, 34,944 "
        "in all; without sharing every neuron has its own: 105,705,600.",
        _conv_project([3, 227, 227], 96, 11, s=4), 0, "summary",
        (LessonStep("Output size: 1 + (227 − 11 + 2·0)/4 = 55, and 96 filters: 55×55×96."),
         LessonStep("Without sharing, one depth slice has 55·55·(11·11·3 + 1) = 1,101,100 parameters."),
         LessonStep("With sharing, one depth slice has 11·11·3 + 1 = 364 parameters: one filter."),
         LessonStep("The whole layer: 34,944 parameters with sharing, 105,705,600 without.")),
        expected={"output": [96, 55, 55], "params": 34_944, "params_unshared": 105_705_600, "per_neuron": 364,
                  "per_slice_unshared": 1_101_100, "formula": "1 + (227 − 11 + 2·0)/4 = 55"},
    ),
    Lesson(
        "alexnet", "AlexNet: every volume from 227×227×3 to 1000 classes", "Networks",
        "The lecture's AlexNet: five conv layers, three max-pooling layers and three fully connected "
        "layers take a 227×227×3 image to 1000 class scores.",
        "alexnet", 0, "summary",
        (LessonStep("Conv 1: 96 filters of 11×11, stride 4: 55×55×96.", layer=0),
         LessonStep("Max pooling 3×3, stride 2: 27×27×96.", layer=3),
         LessonStep("Conv 2: 256 filters of 5×5, padding 2: 27×27×256; pooling: 13×13×256.", layer=4),
         LessonStep("Conv 3, 4, 5 keep 13×13 (3×3 filters, padding 1): 384, 384, 256 deep.", layer=12),
         LessonStep("Pool 5: 6×6×256 = 9,216 values feed FC 6 (4096), FC 7 (4096) and FC 8 (1000).", layer=14),
         LessonStep("62,378,344 parameters in all — most of them in the fully connected layers.", layer=17)),
        expected={"volumes": [[96, 55, 55], [96, 27, 27], [256, 27, 27], [256, 13, 13], [384, 13, 13],
                              [384, 13, 13], [256, 13, 13], [256, 6, 6]],
                  "output": [96, 55, 55], "params": 34_944, "params_unshared": 105_705_600,
                  "total_params": 62_378_344},
    ),
    Lesson(
        "residual-block", "Why a residual block keeps its volume", "Networks",
        "A residual block adds its input to what its layers make of it: F(x) + x. Add sums value by value, "
        "so both must be one volume. Where a block changes the volume, the shortcut gets a 1×1 convolution "
        "that makes x the same size and depth: ResNet-18's projection, 8,192 weights.",
        _residual_project(), 12, "summary",
        (LessonStep("3×3 filters with padding 1 keep 56×56: 1 + (56 − 3 + 2·1)/1 = 56; 64 filters keep the "
                    "depth 64. So F(x) is 56×56×64, like x.", layer=3),
         LessonStep("Add: 56×56×64 + 56×56×64, value by value. No parameters; the volume is kept.", layer=5),
         LessonStep("The next block halves the size with stride 2 and doubles the depth: "
                    "1 + (56 − 3 + 2·1)/2 = 28.5 → 28, so 28×28×128. Now x (56×56×64) no longer fits.", layer=7),
         LessonStep("The shortcut's 1×1 Conv2d, 128 filters, stride 2: 1 + (56 − 1)/2 = 28.5 → 28, so "
                    "28×28×128, and the Add fits again.", layer=12),
         LessonStep("Its parameters: 1·1·64·128 = 8,192 weights (no bias: BatchNorm follows), against "
                    "3·3·64·128 = 73,728 for the block's first 3×3 conv.", layer=12),
         LessonStep("Try it: delete the 1×1 conv and its BatchNorm. The Add then says: Add needs one volume: "
                    "28×28×128 from #11 and 56×56×64 from #6 — insert a 1×1 Conv2d with 128 filters and "
                    "stride 2 after #6.", layer=14)),
        expected={"output": [128, 28, 28], "params": 8_192, "formula": "1 + (56 − 1 + 2·0)/2 = 28.5 → 28 (floor)"},
    ),
    Lesson(
        "autoencoder", "A shallow autoencoder: 64 → 16 → 64", "Autoencoders",
        "An autoencoder learns to reproduce its input through a bottleneck: the encoder squeezes the 8×8 "
        "digits (64 values) into a 16-unit code, the decoder rebuilds the image from it.",
        "autoencoder", 1, "summary",
        (LessonStep("Encoder: 64 input values → 16-unit code (the bottleneck).", layer=1),
         LessonStep("Decoder: 16 → 64 values, folded back into 8×8.", layer=3),
         LessonStep("Trained to reproduce its input, the code keeps what matters most.", layer=1)),
        expected={"output": [16], "code": 16},
    ),
    Lesson(
        "deep-autoencoder", "A deep autoencoder: 64 → 48 → 32 → 2 → 32 → 48 → 64", "Autoencoders",
        "More layers on each side of the bottleneck: a deep autoencoder squeezes the digits into a code of "
        "just 2 numbers, small enough to plot.",
        "deep-autoencoder", 5, "summary",
        (LessonStep("Encoder: 64 → 48 → 32 → 2.", layer=5),
         LessonStep("Decoder: 2 → 32 → 48 → 64, the mirror image.", layer=10)),
        expected={"output": [2], "code": 2},
    ),
    Lesson(
        "denoising-autoencoder", "A denoising autoencoder", "Autoencoders",
        "Noise is added to the input while training, and the network must reproduce the clean image: it "
        "learns a representation where the noise is filtered out.",
        "denoising-autoencoder", 0, "training",
        (LessonStep("The Corruption layer adds noise — only while training.", layer=0),
         LessonStep("The target is the clean input: the network learns to remove the noise.", layer=2),
         LessonStep("Train it and compare clean, noisy and denoised digits.", layer=0)),
        expected={"output": [1, 8, 8], "code": 32},
    ),
    Lesson(
        "layerwise-pretraining", "Layer-wise pretraining of a deep network", "Autoencoders",
        "The new way to train deep networks: train the first layer as an autoencoder, then the next layer "
        "on its codes, and so on; then fine-tune the whole network.",
        _with_training("deep-autoencoder", schedule="layerwise"), 1, "training",
        (LessonStep("Stage 1: the first layer (64 → 48) learns to reproduce the input.", layer=1),
         LessonStep("Stage 2: frozen, it feeds the next layer (48 → 32), trained on its codes.", layer=3),
         LessonStep("Stage 3: the 2-unit code layer, trained on those codes.", layer=5),
         LessonStep("Finally the whole network is fine-tuned together.")),
        expected={"output": [48], "code": 2},
    ),
    Lesson(
        "pca-vs-autoencoder", "PCA vs a non-linear code", "Autoencoders",
        "PCA finds the best linear code; an autoencoder with non-linear layers can do better at the same "
        "code size. Train the deep autoencoder and compare its 2-D codes and error with PCA's.",
        "deep-autoencoder", 5, "latent",
        (LessonStep("PCA: a linear projection onto the 2 directions of largest variance."),
         LessonStep("The deep autoencoder's 2-unit code: a non-linear map of the same digits."),
         LessonStep("Same code size, lower reconstruction error: the classes separate better.")),
        expected={"output": [2], "code": 2},
    ),
)

LESSONS: dict[str, Lesson] = {lesson.name: lesson for lesson in _LESSONS}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(lesson.group for lesson in _LESSONS))


def get_lesson(name: str) -> Lesson:
    """The lesson called `name`, or ValueError listing the lessons."""
    if name not in LESSONS:
        raise ValueError(f"no lesson {name!r}; lessons: {', '.join(LESSONS)}")
    return LESSONS[name]
