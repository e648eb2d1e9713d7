"""'Promote best': a normal train job with the best trial's values, fresh or continuing that trial."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.automl.snapshot import StudySnapshot
from app.core.specs.document import SpecDocument
from app.ui.automl.space_table import format_number


class PromoteDialog(QDialog):
    """Asks how to promote the best trial: train again with its values, or continue its training."""

    def __init__(self, snapshot: StudySnapshot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Promote the best trial")
        best = snapshot.best
        assert best is not None
        config = snapshot.record.config
        epochs = int(SpecDocument.from_yaml(config.spec_yaml).get("train.num_epochs", 10) or 10)
        layout = QVBoxLayout(self)
        values = ", ".join(
            f"{k} = {format_number(v) if isinstance(v, float) else v}" for k, v in best.params.items()
        )
        summary = QLabel(
            f"Trial {best.number}: {config.metric} = {format_number(best.value)}<br><small>{values}</small>",
            self,
        )
        summary.setWordWrap(True)
        layout.addWidget(summary)
        self.fresh = QRadioButton("Train again from the start with these values", self)
        self.resume = QRadioButton(f"Continue trial {best.number}'s training from its last checkpoint", self)
        self.fresh.setChecked(True)
        layout.addWidget(self.fresh)
        layout.addWidget(self.resume)
        form = QFormLayout()
        self.epochs = QSpinBox(self)
        self.epochs.setRange(1, 100000)
        self.epochs.setValue(epochs * 2)
        self.epochs.setToolTip("train.num_epochs of the new job (when continuing: the new total)")
        form.addRow("Epochs", self.epochs)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Launch train job")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
