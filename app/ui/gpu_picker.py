"""`GpuPicker`: the launch bar's button for choosing a host's GPUs (none chosen: CPU only)."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from app.core.hosts.gpus import GpuInfo, GpuInventory, list_gpus
from app.ui.app_context import AppContext

NO_GPU_NOTE = "No NVIDIA GPUs: CPU work only"


class StayOpenMenu(QMenu):
    """A menu whose checkable entries toggle without closing it (for picking several GPUs)."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Toggle a checkable entry in place."""
        action = self.activeAction()
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)


def gpu_label(gpu: GpuInfo) -> str:
    """``GPU 0 · A100 · 1.2/80.0 GiB · 3 % busy`` as the picker lists it."""
    parts = [f"GPU {gpu.index}", gpu.name]
    if gpu.memory_used_mib is not None and gpu.memory_total_mib:
        parts.append(f"{gpu.memory_used_mib / 1024:.1f}/{gpu.memory_total_mib / 1024:.1f} GiB")
    if gpu.utilization_percent is not None:
        parts.append(f"{gpu.utilization_percent} % busy")
    return " · ".join(parts)


class GpuPicker(QToolButton):
    """Lists a host's GPUs (fetched in a worker, cached in the context) as checkable entries.

    Emits ``changed`` when the choice or the inventory changes.
    """

    changed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName("GpuPicker")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setMinimumWidth(130)
        self.menu_of_gpus = StayOpenMenu(self)
        self.setMenu(self.menu_of_gpus)
        self.inventory: GpuInventory | None = None
        self._pending: list[int] | None = None
        self._token = 0

    def load(self, host: str | None, probe_images: list[str]) -> None:
        """Show the GPUs of ``host`` (from the cache, else asked in a worker)."""
        self._token += 1
        self.inventory = None
        if host is None:
            self.show_inventory(None)
            return
        cached = self.context.gpu_inventories.get(host)
        if cached is not None:
            self.show_inventory(cached)
            return
        self.setText("Looking for GPUs…")
        self.menu_of_gpus.clear()
        self.context.run(
            self._inventory_of, host, probe_images,
            on_done=partial(self._on_inventory, self._token, host),
            on_error=partial(self._on_inventory_failed, self._token),
        )  # fmt: skip

    def _inventory_of(self, host: str, probe_images: list[str]) -> GpuInventory:
        return list_gpus(self.context.manager.session(host), probe_images)

    def _on_inventory(self, token: int, host: str, inventory: GpuInventory) -> None:
        self.context.gpu_inventories[host] = inventory
        if token == self._token:
            self.show_inventory(inventory)

    def _on_inventory_failed(self, token: int, message: str) -> None:
        if token == self._token:
            self.show_inventory(GpuInventory([], f"GPUs unknown: {message}"))

    def show_inventory(self, inventory: GpuInventory | None) -> None:
        """List these GPUs (None: no host chosen), keeping a choice made before they arrived."""
        self.inventory = inventory
        self.menu_of_gpus.clear()
        wanted = set(self._pending or [])
        self._pending = None
        if inventory is None or not inventory.gpus:
            note = inventory.note if inventory is not None else "Choose a host first"
            self.menu_of_gpus.addAction(note or NO_GPU_NOTE).setEnabled(False)
        else:
            for gpu in inventory.gpus:
                entry = self.menu_of_gpus.addAction(gpu_label(gpu))
                entry.setCheckable(True)
                entry.setData(gpu.index)
                entry.setChecked(gpu.index in wanted)
                entry.toggled.connect(lambda _on: self._on_choice_changed())
            self.menu_of_gpus.addSeparator()
            self.menu_of_gpus.addAction("CPU only (no GPU)", lambda: self.set_selected([]))
        self._on_choice_changed()

    def selected(self) -> list[int]:
        """The chosen host GPU indices (empty: CPU only)."""
        return [int(a.data()) for a in self.menu_of_gpus.actions() if a.isCheckable() and a.isChecked()]

    def set_selected(self, indices: list[int]) -> None:
        """Choose GPUs by index (applied when the inventory arrives if it is not there yet)."""
        if self.inventory is None:
            self._pending = list(indices)
            return
        for entry in self.menu_of_gpus.actions():
            if entry.isCheckable():
                entry.setChecked(int(entry.data()) in indices)

    def _on_choice_changed(self) -> None:
        chosen = self.selected()
        self.setText(f"GPU {', '.join(map(str, chosen))}" if chosen else "CPU only")
        self.changed.emit()
