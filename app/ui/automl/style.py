"""The AutoML screens' look: white cards on a light canvas, like the job monitor; state colours."""

from __future__ import annotations

STATE_COLOURS = {
    "running": "#2e86c1",
    "complete": "#1e8449",
    "pruned": "#ca6f1e",
    "failed": "#c0392b",
    "waiting": "#7f8c8d",
}
STUDY_STATE_COLOURS = {
    "running": "#2e86c1",
    "paused": "#7f8c8d",
    "stopping": "#b9770e",
    "cancelling": "#b9770e",
    "finished": "#1e8449",
    "stopped": "#5d6d7e",
    "cancelled": "#b9770e",
    "failed": "#c0392b",
}
BASELINE_COLOUR = "#7d3c98"
BEST_COLOUR = "#1e8449"

AUTOML_STYLE = """
QWidget#StudyView, QDialog#StudySetupDialog { background: #f4f6f8; }
QFrame#AutomlCard { background: white; border: 1px solid #dde3e9; border-radius: 6px; }
QLabel#CardTitle { color: #1b2631; font-weight: 600; }
QLabel#CardHint { color: #7f8c8d; font-size: 9pt; }
QLabel#StudyTitle { font-size: 13pt; color: #1b2631; }
QLabel#StudyFacts { color: #34495e; }
QLabel#StudyBadge { color: white; font-weight: bold; border-radius: 8px; padding: 2px 10px; }
QLabel#SetupProblems { color: #c0392b; background: #fdecea; border: 1px solid #e6b0aa; border-radius: 4px;
  padding: 6px 8px; }
QLabel#SetupNote { color: #5d6d7e; }
QTableWidget#SpaceTable, QTableWidget#PreviewTable, QTableView#TrialTable { background: white;
  border: 1px solid #e5e9ee; border-radius: 4px; alternate-background-color: #f8fafb;
  gridline-color: #eef1f4; }
QTableWidget#SpaceTable QHeaderView::section, QTableWidget#PreviewTable QHeaderView::section,
QTableView#TrialTable QHeaderView::section { background: #f4f6f8; color: #5d6d7e; border: none;
  border-bottom: 1px solid #e5e9ee; padding: 4px 6px; font-weight: 600; }
QLineEdit[invalid="true"] { border: 1px solid #c0392b; background: #fdecea; }
QPushButton#StartStudyButton { background: #7d3c98; color: white; font-weight: bold; border-radius: 4px;
  padding: 6px 18px; }
QPushButton#StartStudyButton:disabled { background: #c4b3cc; color: #f4eef7; }
QPushButton#StartStudyButton:hover:!disabled { background: #6c3483; }
QPushButton#PromoteButton { background: #2874a6; color: white; font-weight: bold; border-radius: 4px;
  padding: 5px 14px; }
QPushButton#PromoteButton:disabled { background: #aab7c4; color: #eef1f4; }
QPushButton#DangerButton { color: #c0392b; }
"""
