"""The tracks viewer's controls: score threshold, classes, colouring, trails, labels, ground truth, export."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from app.ui.viewers.frame_scene import ColourBy


class TracksToolbar(QFrame):
    """Emits ``changed`` whenever a drawing setting changes and ``export_requested`` for the PNG button."""

    changed = Signal()
    filter_changed = Signal()
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ViewerToolbar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(QLabel("Score ≥", self))
        self.threshold = QDoubleSpinBox(self)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setToolTip(
            "Hide boxes scoring below this (default: the spec's visualize.vis_score_threshold)"
        )
        self.threshold.valueChanged.connect(lambda _v: self.filter_changed.emit())
        layout.addWidget(self.threshold)
        self.classes_button = QToolButton(self)
        self.classes_button.setText("Classes")
        self.classes_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.classes_menu = QMenu(self.classes_button)
        self.classes_button.setMenu(self.classes_menu)
        layout.addWidget(self.classes_button)
        layout.addSpacing(8)
        layout.addWidget(QLabel("Colour by", self))
        self.colour_by = QComboBox(self)
        self.colour_by.addItem("track id", "track")
        self.colour_by.addItem("class", "class")
        self.colour_by.currentIndexChanged.connect(lambda _i: self.changed.emit())
        layout.addWidget(self.colour_by)
        layout.addSpacing(8)
        layout.addWidget(QLabel("Trails", self))
        self.trail = QSpinBox(self)
        self.trail.setRange(0, 1000)
        self.trail.setValue(20)
        self.trail.setSuffix(" frames")
        self.trail.setToolTip("How many past frames each track's trail covers (0: no trails)")
        self.trail.valueChanged.connect(lambda _v: self.changed.emit())
        layout.addWidget(self.trail)
        self.labels = QCheckBox("Ids", self)
        self.labels.setChecked(True)
        self.labels.setToolTip("Show track ids next to the boxes in the top view")
        self.labels.toggled.connect(lambda _b: self.changed.emit())
        layout.addWidget(self.labels)
        self.ground_truth = QCheckBox("Ground truth", self)
        self.ground_truth.setChecked(True)
        self.ground_truth.setToolTip(
            "Show the ground truth from the infos and compare it with the predictions"
        )
        self.ground_truth.toggled.connect(lambda _b: self.changed.emit())
        layout.addWidget(self.ground_truth)
        layout.addStretch(1)
        self.export_button = QPushButton("Export PNG…", self)
        self.export_button.setToolTip("Save the current frame's views as a PNG image")
        self.export_button.clicked.connect(self.export_requested.emit)
        layout.addWidget(self.export_button)

    def set_classes(self, names: list[str]) -> None:
        """One checkable entry per class, all shown."""
        self.classes_menu.clear()
        for name in names:
            action = QAction(name, self.classes_menu)
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(lambda _b: self._on_classes_toggled())
            self.classes_menu.addAction(action)
        self.classes_button.setEnabled(bool(names))
        self._update_classes_text()

    def hidden_classes(self) -> frozenset[str]:
        """The classes the user unticked."""
        return frozenset(action.text() for action in self.classes_menu.actions() if not action.isChecked())

    def set_class_shown(self, name: str, shown: bool) -> None:
        """Tick or untick one class."""
        for action in self.classes_menu.actions():
            if action.text() == name:
                action.setChecked(shown)

    def colour_mode(self) -> ColourBy:
        """``"track"`` or ``"class"``."""
        return "class" if self.colour_by.currentData() == "class" else "track"

    def _on_classes_toggled(self) -> None:
        self._update_classes_text()
        self.filter_changed.emit()

    def _update_classes_text(self) -> None:
        actions = self.classes_menu.actions()
        shown = sum(action.isChecked() for action in actions)
        self.classes_button.setText(
            "Classes: all" if shown == len(actions) else f"Classes: {shown} of {len(actions)}"
        )
