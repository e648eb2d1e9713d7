"""Choosing which registered dataset fills each source of a requirement table, and registering new ones."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from app.core.datasets.registry import ROLES, Dataset, DatasetRegistry, DatasetRegistryError
from app.core.datasets.resolve import SOURCE_ROLES, only_from_convert_job
from app.core.skills.model import DataRequirement

SOURCE_LABELS = {
    "train_datasets": "Train data",
    "eval_dataset": "Evaluation data",
    "inference_dataset": "Inference data",
    "calibration_dataset": "Calibration data",
    "id": "Data",
}
ERROR_COLOUR = "#c0392b"


class RegisterDatasetDialog(QDialog):
    """Register a dataset: a name, a role and a folder on the chosen host."""

    def __init__(self, host: str, role: str = "train", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.setWindowTitle(f"Register a dataset on '{host}'")
        form = QFormLayout(self)
        self.name_edit = QLineEdit(self)
        self.role_combo = QComboBox(self)
        self.role_combo.addItems(list(ROLES))
        self.role_combo.setCurrentText(role)
        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText(f"a folder on '{host}', e.g. /data/pose")
        self.message = QLabel("", self)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR};")
        form.addRow("Name", self.name_edit)
        form.addRow("Role", self.role_combo)
        form.addRow("Folder", self.path_edit)
        form.addRow(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._on_accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def dataset(self) -> Dataset:
        """The dataset as entered."""
        path = self.path_edit.text().strip().rstrip("/") or "/"
        return Dataset(self.name_edit.text().strip(), self.host, self.role_combo.currentText(), path)

    def _on_accept(self) -> None:
        problems = self.dataset().problems()
        if problems:
            self.message.setText(problems[0])
            return
        self.accept()


class DatasetChoiceBar(QWidget):
    """One combo per source a plain dataset can fill (train data, evaluation data ...), and a
    "Register dataset…" button. ``chosen`` maps a source to the dataset name picked for it."""

    choice_changed = Signal()
    registered = Signal(object)

    def __init__(self, registry: DatasetRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.chosen: dict[str, str] = {}
        self.host = ""
        self.default_role = "train"
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.combos = QHBoxLayout()
        self.combos.setSpacing(6)
        layout.addLayout(self.combos)
        self.register_button = QPushButton("Register dataset…", self)
        self.register_button.setToolTip(
            "Register a folder on this host as a train, eval or inference dataset"
        )
        self.register_button.clicked.connect(self._on_register_clicked)
        layout.addWidget(self.register_button)

    def show_choices(
        self, host: str, skill: str, requirements: list[DataRequirement], datasets: list[Dataset]
    ) -> None:
        """Rebuild the combos for this host's datasets (the previous choices are kept where they fit)."""
        self.host = host
        self.register_button.setEnabled(bool(host))
        while self.combos.count():
            item = self.combos.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        sources = list(dict.fromkeys(r.source for r in requirements if not only_from_convert_job(r)))
        if requirements:
            self.default_role = SOURCE_ROLES.get(requirements[0].source, ("train",))[0]
        for source in sources:
            roles = SOURCE_ROLES.get(source, ())
            fitting = sorted(
                (d for d in datasets if d.fits(host, skill) and d.role in roles), key=lambda d: d.name
            )
            self.combos.addWidget(QLabel(f"{SOURCE_LABELS.get(source, source)}:", self))
            self.combos.addWidget(self._combo(source, fitting))

    def _combo(self, source: str, fitting: list[Dataset]) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(f"DatasetChoice_{source}")
        combo.setMinimumContentsLength(12)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for dataset in fitting:
            combo.addItem(dataset.name, dataset.name)
            tip = f"{dataset.host}:{dataset.path} ({dataset.role})"
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        if not fitting:
            combo.addItem(f"none on '{self.host}'" if self.host else "no host", None)
            combo.setEnabled(False)
        elif self.chosen.get(source) in [d.name for d in fitting]:
            combo.setCurrentIndex(combo.findData(self.chosen[source]))
        combo.currentIndexChanged.connect(partial(self._on_chosen, source, combo))
        return combo

    def _on_chosen(self, source: str, combo: QComboBox, _index: int) -> None:
        name = combo.currentData()
        if name:
            self.chosen[source] = str(name)
        self.choice_changed.emit()

    def _on_register_clicked(self) -> None:
        if not self.host:
            return
        dialog = RegisterDatasetDialog(self.host, self.default_role, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            self.registry.add(dialog.dataset())
        except DatasetRegistryError as error:
            QMessageBox.warning(self, "Register a dataset", str(error))
            return
        self.registered.emit(dialog.dataset())
