"""The pose classification viewer: accuracy summary, confusion matrix, filterable sequence list and
the chosen sequence as an animated skeleton.

Open alone with the bundled sample: ``python -m app.ui.viewers.pose_viewer``.
"""

from __future__ import annotations

import math
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QWidget,
)

from app.core.results.layouts import LAYOUTS, SkeletonLayout
from app.ui.viewers.bundle_viewer import BundleViewer, show_alone
from app.ui.viewers.confusion_view import ConfusionView
from app.ui.viewers.result_files import FileAccess
from app.ui.viewers.result_loading import PoseBundle, choose_layout, load_pose_bundle
from app.ui.viewers.result_sources import PoseSource
from app.ui.viewers.sequence_list import SequenceList
from app.ui.viewers.skeleton_view import SkeletonView


def percent(value: float) -> str:
    """``0.8123`` -> ``"81.2 %"``; NaN -> ``"–"``."""
    return "–" if math.isnan(value) else f"{100 * value:.1f} %"


class PoseViewer(BundleViewer):
    """Shows one :class:`PoseBundle`; stays usable (with a message) when loading fails."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("PoseViewer", parent)
        self.bundle: PoseBundle | None = None
        layout = self.main_layout
        toolbar = QFrame(self)
        toolbar.setObjectName("ViewerToolbar")
        bar = QHBoxLayout(toolbar)
        bar.setContentsMargins(8, 4, 8, 4)
        self.summary = QLabel(self)
        self.summary.setObjectName("ViewerSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        bar.addWidget(self.summary, 1)
        bar.addWidget(QLabel("Skeleton layout", self))
        self.layout_choice = QComboBox(self)
        self.layout_choice.setToolTip("The model.graph_layout the skeleton data was made for")
        for layout_info in LAYOUTS.values():
            self.layout_choice.addItem(
                f"{layout_info.name} ({layout_info.num_joints} joints)", layout_info.name
            )
        self.layout_choice.currentIndexChanged.connect(self._on_layout_chosen)
        bar.addWidget(self.layout_choice)
        layout.addWidget(toolbar)
        layout.addWidget(self.banner)
        body = QSplitter(Qt.Orientation.Horizontal, self)
        left = QSplitter(Qt.Orientation.Vertical, body)
        self.confusion = ConfusionView(left)
        self.sequences = SequenceList(left)
        left.addWidget(self.confusion)
        left.addWidget(self.sequences)
        left.setSizes([330, 420])
        self.skeleton = SkeletonView(body)
        body.addWidget(left)
        body.addWidget(self.skeleton)
        body.setSizes([640, 700])
        self.pages.addWidget(body)
        layout.addWidget(self.pages, 1)
        self.confusion.cell_clicked.connect(self._on_cell_clicked)
        self.sequences.sequence_selected.connect(self.skeleton.show_sequence)
        self.summary.setText("No results loaded.")

    # -- loading ---------------------------------------------------------------------------------

    def load(self, source: PoseSource, files: FileAccess | None = None) -> None:
        """Read the files in a worker, then show them (or the reason they cannot be shown)."""
        self.start_loading(f"Reading {source.predictions} …", load_pose_bundle, source, files)

    def clear_results(self) -> None:
        """Forget the shown results (loading failed)."""
        self.bundle = None
        self.summary.setText("No results loaded.")

    def set_bundle(self, bundle: PoseBundle) -> None:
        """Show loaded results."""
        self.loading = False
        self.bundle = bundle
        results = bundle.results
        self._show_summary()
        self.pages.setCurrentIndex(1)
        self.confusion.set_results(results)
        self.sequences.set_results(results)
        self.skeleton.set_results(results)
        self.layout_choice.blockSignals(True)
        if bundle.layout is not None:
            self.layout_choice.setCurrentIndex(self.layout_choice.findData(bundle.layout.name))
        self.layout_choice.blockSignals(False)
        self._apply_layout(bundle.layout, bundle.layout_problem)
        if results.num_sequences:
            self.sequences.select_row(0)
        self.loaded.emit()

    def _show_summary(self) -> None:
        assert self.bundle is not None
        results = self.bundle.results
        counts = f"{results.num_sequences:,} sequences · {results.num_classes} classes"
        if results.true_labels is None:
            self.summary.setText(f"{counts} · no true labels, so no accuracy")
            return
        self.summary.setText(
            f"Top-1 accuracy <b>{percent(results.top1_accuracy())}</b> &nbsp;·&nbsp; mean class accuracy "
            f"<b>{percent(results.mean_class_accuracy())}</b> &nbsp;·&nbsp; {counts}"
        )

    # -- interaction ---------------------------------------------------------------------------

    def choose_layout(self, name: str) -> None:
        """Draw with another graph layout (as if picked in the combo box)."""
        self.layout_choice.setCurrentIndex(self.layout_choice.findData(name))

    def _on_layout_chosen(self, _index: int) -> None:
        if self.bundle is None:
            return
        layout, problem = choose_layout(self.bundle.results, self.layout_choice.currentData())
        self._apply_layout(layout, problem)

    def _apply_layout(self, layout: SkeletonLayout | None, problem: str | None) -> None:
        assert self.bundle is not None
        self.skeleton.set_layout(layout, problem)
        warnings = ([problem] if problem else []) + self.bundle.warnings
        if problem:
            self.banner.show_message("\n".join(warnings), "error")
        else:
            self.banner.show_warnings(warnings)

    def _on_cell_clicked(self, true_class: int, predicted_class: int | None) -> None:
        self.sequences.set_filter(true_class, predicted_class)
        self.sequences.select_row(0)


def main() -> int:
    """Open the viewer alone on the bundled sample."""
    from app.ui.application import create_application
    from app.ui.viewers.result_sources import sample_pose_source

    app = create_application()
    viewer = PoseViewer()
    viewer.load(sample_pose_source())
    return show_alone(app, viewer, 1400, 860)


if __name__ == "__main__":
    sys.exit(main())
