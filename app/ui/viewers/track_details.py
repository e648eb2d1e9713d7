"""The selected track: what it is, how long it lived, and its speed and score over time."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.results.tracks import TrackResults
from app.ui.viewers.palette import TRACK_PALETTE, track_colour_keys


def _small_plot(title: str, unit: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setMinimumHeight(110)
    item = plot.getPlotItem()
    item.setTitle(title, size="9pt", color="#34495e")
    item.setLabel("left", unit)
    item.setLabel("bottom", "frame")
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setMenuEnabled(False)
    item.hideButtons()
    return plot


class TrackDetails(QWidget):
    """Pick a track, read its facts, follow its speed and score; emits ``track_chosen(id or None)``."""

    track_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrackDetails")
        self.tracks: TrackResults | None = None
        self.track_id: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        row.addWidget(QLabel("Track", self))
        self.chooser = QComboBox(self)
        self.chooser.setObjectName("TrackChooser")
        self.chooser.currentIndexChanged.connect(self._on_chooser_changed)
        row.addWidget(self.chooser, 1)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setToolTip("Deselect the track")
        self.clear_button.clicked.connect(lambda: self.track_chosen.emit(None))
        row.addWidget(self.clear_button)
        layout.addLayout(row)
        self.facts = QLabel(self)
        self.facts.setObjectName("TrackFacts")
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.facts)
        self.speed_plot = _small_plot("Speed", "m/s")
        self.score_plot = _small_plot("Score", "")
        self.score_plot.getPlotItem().setYRange(0, 1, padding=0.05)
        self.score_plot.setXLink(self.speed_plot)
        layout.addWidget(self.speed_plot, 1)
        layout.addWidget(self.score_plot, 1)
        self.speed_curve = self.speed_plot.plot([], [], pen=pg.mkPen("#2874a6", width=2))
        self.score_curve = self.score_plot.plot([], [], pen=pg.mkPen("#2874a6", width=2))
        self.cursors = []
        for plot in (self.speed_plot, self.score_plot):
            cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#c0392b", width=1))
            plot.addItem(cursor)
            self.cursors.append(cursor)
        self.show_track(None)

    def set_results(self, tracks: TrackResults) -> None:
        """Fill the track chooser (tracks sorted by id text, with class and length)."""
        self.tracks = tracks
        lengths = tracks.track_lengths()
        main_class = np.zeros(tracks.num_tracks, dtype=np.int64)
        tracked = tracks.track_ids >= 0
        main_class[tracks.track_ids[tracked]] = tracks.class_indices[tracked]
        order = sorted(
            range(tracks.num_tracks), key=lambda i: (len(tracks.track_names[i]), tracks.track_names[i])
        )
        self.chooser.blockSignals(True)
        self.chooser.clear()
        self.chooser.addItem("none selected", None)
        for track in order:
            name = tracks.class_names[main_class[track]] if tracks.class_names else "?"
            self.chooser.addItem(f"{tracks.track_names[track]}  ·  {name}  ·  {lengths[track]} boxes", track)
        self.chooser.blockSignals(False)
        self.speed_plot.setXRange(1, max(tracks.num_frames, 2), padding=0.02)
        self.show_track(None)

    def show_track(self, track_id: int | None) -> None:
        """Show one track's facts and curves (or a hint when none is selected)."""
        self.track_id = track_id
        self.chooser.blockSignals(True)
        self.chooser.setCurrentIndex(max(0, self.chooser.findData(track_id)) if track_id is not None else 0)
        self.chooser.blockSignals(False)
        self.clear_button.setEnabled(track_id is not None)
        if self.tracks is None or track_id is None:
            self.facts.setText("Click a box in the top view or a camera, or pick a track above.")
            self.speed_curve.setData([], [])
            self.score_curve.setData([], [])
            return
        track = self.tracks.track(track_id)
        colour = TRACK_PALETTE[int(track_colour_keys([track.name])[0])]
        frames = track.frame_indices + 1
        class_name = self.tracks.class_names[track.class_index] if track.class_index >= 0 else "?"
        speeds = track.speeds
        self.facts.setText(
            f"<span style='color:{colour}; font-size:14pt'>■</span> <b>track {html.escape(track.name)}</b> · "
            f"{html.escape(class_name)}<br>"
            f"frames {frames.min() if len(frames) else '-'}–{frames.max() if len(frames) else '-'} "
            f"({len(frames)} boxes)<br>"
            f"mean score {np.mean(track.scores):.2f} · "
            f"mean speed {np.mean(speeds) if len(speeds) else 0:.2f} m/s"
        )
        self.speed_curve.setData(frames, speeds)
        self.score_curve.setData(frames, track.scores)

    def set_current_frame(self, index: int) -> None:
        """Move the frame cursor on both plots."""
        for cursor in self.cursors:
            cursor.setValue(index + 1)

    def _on_chooser_changed(self, _index: int) -> None:
        self.track_chosen.emit(self.chooser.currentData())
