"""One timeline for every view: a frame slider, play/pause, step, speed, and where we are in time."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
DEFAULT_FPS = 10.0


def frames_per_second(timestamps: np.ndarray) -> float:
    """The frame rate implied by the timestamps (median step), or 10 when they do not say."""
    stamps = np.asarray(timestamps, dtype=np.float64)
    steps = np.diff(stamps[np.isfinite(stamps)])
    steps = steps[steps > 0]
    if not len(steps):
        return DEFAULT_FPS
    return float(min(max(1.0 / float(np.median(steps)), 1.0), 60.0))


class Timeline(QWidget):
    """Emits ``frame_changed(index)`` when the user scrubs, steps or plays."""

    frame_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Timeline")
        self.describe_frame = lambda index: f"frame {index + 1}"
        self.fps = DEFAULT_FPS
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        style = self.style()
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.back_button = self._tool(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward),
            "Previous frame (Left)",
            lambda: self.step(-1),
        )
        self.play_button = self._tool(self._play_icon, "Play / pause (Space)", self.toggle_play)
        self.forward_button = self._tool(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward),
            "Next frame (Right)",
            lambda: self.step(1),
        )
        for button in (self.back_button, self.play_button, self.forward_button):
            layout.addWidget(button)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("TimelineSlider")
        self.slider.valueChanged.connect(self._on_slider_changed)
        layout.addWidget(self.slider, 1)
        self.speed = QComboBox(self)
        self.speed.setToolTip("Playback speed")
        for speed in SPEEDS:
            self.speed.addItem(f"{speed:g}×", speed)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(lambda _i: self._apply_speed())
        layout.addWidget(self.speed)
        self.label = QLabel(self)
        self.label.setObjectName("TimelineLabel")
        self.label.setMinimumWidth(260)
        layout.addWidget(self.label)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._on_tick)
        self.set_frame_count(0)

    def _tool(self, icon: QIcon, tip: str, handler: object) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.clicked.connect(handler)
        return button

    @property
    def frame(self) -> int:
        """The current frame index."""
        return int(self.slider.value())

    @property
    def playing(self) -> bool:
        """True while playing."""
        return self.timer.isActive()

    def set_frame_count(self, count: int, fps: float = DEFAULT_FPS) -> None:
        """Reset to ``count`` frames at ``fps`` (frame 0, paused)."""
        self.pause()
        self.fps = fps
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(count - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        for widget in (self.slider, self.play_button, self.back_button, self.forward_button, self.speed):
            widget.setEnabled(count > 1)
        self._count = count
        self._update_label()

    def set_frame(self, index: int) -> None:
        """Go to a frame (emits ``frame_changed`` if it changes)."""
        self.slider.setValue(max(0, min(index, self.slider.maximum())))

    def step(self, delta: int) -> None:
        """Move by ``delta`` frames (stops playback)."""
        self.pause()
        self.set_frame(self.frame + delta)

    def toggle_play(self) -> None:
        """Play from here, or pause."""
        if self.playing:
            self.pause()
        elif self._count > 1:
            if self.frame >= self.slider.maximum():
                self.set_frame(0)
            self._apply_speed()
            self.timer.start()
            self.play_button.setIcon(self._pause_icon)

    def pause(self) -> None:
        """Stop playing."""
        self.timer.stop()
        self.play_button.setIcon(self._play_icon)

    def _apply_speed(self) -> None:
        speed = float(self.speed.currentData() or 1.0)
        self.timer.setInterval(max(15, math.floor(1000.0 / (self.fps * speed))))

    def _on_tick(self) -> None:
        next_frame = self.frame + 1
        self.set_frame(0 if next_frame > self.slider.maximum() else next_frame)

    def _on_slider_changed(self, value: int) -> None:
        self._update_label()
        self.frame_changed.emit(value)

    def _update_label(self) -> None:
        if self._count == 0:
            self.label.setText("no frames")
            return
        self.label.setText(f"{self.frame + 1} / {self._count}  ·  {self.describe_frame(self.frame)}")
