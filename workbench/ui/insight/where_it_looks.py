"""The Activation maps panel with a second picture for the same sample (or opened image): where the
network looks — saliency, Grad-CAM and occlusion side by side (workbench.ui.insight.saliency).

"Where it looks" (a check box) asks the probe for the explanation (ProbeRequest.explain); the sample spin box
and Open image… pick what is explained, live while training or from an opened run.
"""
from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QWidget

from workbench.training.attribution import Explanation
from workbench.ui.insight.activations import ActivationsPanel
from workbench.ui.insight.base import INK
from workbench.ui.insight.saliency import describe_pixel, explanation_picture, explanation_title

class ExplainingActivationsPanel(ActivationsPanel):
    """ActivationsPanel plus a "where it looks" check box (see the module docstring)."""

    explain_box: QCheckBox | None = None  # made after the base class's first refresh

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.parts: list[tuple[int, str]] = []
        self.explained: list[Any] = []  # each part's map (None: the input), for the hover line
        self.explain_zoom = 1
        self.explain_captions: list[pg.TextItem] = []
        self.explain_box = QCheckBox("Where it looks")  # a check box: the bar fits a 1024-pixel window
        self.explain_box.setToolTip("Instead of the maps: where the network looks for this sample — saliency "
                                    "(input gradient), Grad-CAM at the last conv layer, and occlusion")
        self.explain_box.toggled.connect(self._shown_changed)
        self.bar.addWidget(self.explain_box)

    def explaining(self) -> bool:
        return self.explain_box is not None and self.explain_box.isChecked()

    def request_fields(self) -> dict:
        return {**super().request_fields(), "explain": self.explaining()}

    def _shown_changed(self, _: bool) -> None:
        self.request_changed.emit()
        self.refresh()

    def refresh(self) -> None:
        if self.explain_box is None:  # the base class's first refresh, before this class's parts exist
            super().refresh()
            return
        for side in ("left", "bottom"):  # pixel axes help read the maps, not the explanation
            self.view.plot.showAxis(side, not self.explaining())
        for caption in self.explain_captions:
            caption.setText("")
        self.parts = []
        if not self.explaining():
            super().refresh()
            return
        for caption in self.captions:
            caption.setText("")
        self.sections = []
        explanation = self.probe.get("explanation")
        if not isinstance(explanation, Explanation) or "input" not in self.probe:
            why = self.probe.get("explanation_error") or "Where the network looks appears here (start training or open a run)"
            self.view.clear(str(why))
            return
        # wide gaps and one-word captions: in the low bottom dock each part is a few dozen pixels wide
        image, lefts, names, self.explain_zoom = explanation_picture(self.probe["input"], explanation, spacing=0.6)
        while len(self.explain_captions) < len(names):
            caption = pg.TextItem(color=INK, anchor=(0, 1))
            self.view.plot.addItem(caption)
            self.explain_captions.append(caption)
        for caption, left, name in zip(self.explain_captions, lefts, names):
            caption.setText(name.split(" ")[0])  # the whole name is in the hover line
            caption.setPos(left, 0)
        self.parts = list(zip(lefts, names))
        self.explained = [None, explanation.saliency, *([explanation.grad_cam] if explanation.grad_cam is not None
                                                         else []), explanation.occlusion]
        what = "opened image" if self.image is not None else f"sample {self.sample.value()}"
        self.view.show(image, explanation_title(explanation, [], what), headroom=0.3)  # room for the captions

    def describe_at(self, scene_pos: Any) -> str:
        if not self.explaining():
            return super().describe_at(scene_pos)
        pixel = self.view.pixel_at(scene_pos) if self.parts else None
        if pixel is None:
            return ""
        return describe_pixel(self.parts, self.explained, self.explain_zoom, *pixel)
