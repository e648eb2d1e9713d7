"""The monitor's look: white chart cards on a light canvas, quiet captions, a status-coloured bar."""

MONITOR_STYLE = """
QWidget#JobMonitorPanel { background: #f4f6f8; }
QFrame#ProgressStrip { background: white; border: 1px solid #dde3e9; border-radius: 6px; }
QLabel#TileCaption { color: #7f8c8d; font-size: 8pt; letter-spacing: 0.5px; }
QLabel#TileValue { color: #1b2631; font-size: 12pt; font-weight: 600; }
QLabel#ProgressMessage { color: #5d6d7e; }
QLabel#ProgressMessage[state="error"] { color: #c0392b; font-weight: bold; }
QProgressBar#JobProgressBar { border: none; border-radius: 4px; background: #e8ecf0; text-align: center;
  color: #1b2631; font-size: 8pt; }
QProgressBar#JobProgressBar::chunk { border-radius: 4px; background: #2e86c1; }
QProgressBar#JobProgressBar[state="completed"]::chunk { background: #27ae60; }
QProgressBar#JobProgressBar[state="failed"]::chunk { background: #e74c3c; }
QProgressBar#JobProgressBar[state="cancelled"]::chunk { background: #d4ac0d; }
QFrame#MonitorSidebar { background: white; border: 1px solid #dde3e9; border-radius: 6px; }
QLabel#SectionCaption { font-weight: bold; color: #34495e; padding: 2px 0; }
QLabel#SectionHint, QLabel#MetricsNote, QLabel#MonitorProblems { color: #7f8c8d; font-size: 9pt; }
QLabel#MonitorProblems[state="warning"] { color: #9a6700; }
QLabel#MonitorMessage { color: #c0392b; padding: 2px 4px; }
QListWidget#RunList { border: 1px solid #e5e9ee; border-radius: 4px; background: white; }
QListWidget#RunList::item { padding: 4px 2px; border-bottom: 1px solid #f0f2f5; color: #2c3e50; }
QListWidget#RunList::item:hover { background: #f4f8fb; }
QTableWidget#KpiTable { border: 1px solid #e5e9ee; border-radius: 4px; background: white;
  alternate-background-color: #f8fafb; }
QTableWidget#KpiTable QHeaderView::section { background: #f4f6f8; color: #5d6d7e; border: none;
  border-bottom: 1px solid #e5e9ee; padding: 3px 6px; font-weight: 600; }
QFrame#ChartsToolbar { background: white; border: 1px solid #dde3e9; border-radius: 6px; }
QLabel#ToolbarCaption { color: #5d6d7e; }
QLineEdit#TagFilter { padding: 3px 6px; border: 1px solid #d5dbe1; border-radius: 4px; }
QLineEdit#TagFilter[invalid="true"] { border: 1px solid #c0392b; background: #fdecea; }
QWidget#ChartsCanvas { background: #f4f6f8; }
QScrollArea#ChartsScroll { background: #f4f6f8; }
QToolButton#TagGroupHeader { border: none; font-weight: bold; color: #34495e; padding: 4px 2px;
  text-align: left; }
QFrame#ChartCard, QFrame#MetricCard { background: white; border: 1px solid #dde3e9; border-radius: 6px; }
QLabel#ChartTitle { color: #1b2631; font-weight: 600; }
QLabel#ChartReadout, QLabel#MetricLatest { color: #34495e; font-size: 9pt; }
QToolButton#ChartTool { color: #5d6d7e; font-size: 8pt; padding: 1px 4px; border-radius: 3px; }
QToolButton#ChartTool:hover { background: #eaf2f8; color: #1b4f72; }
QLabel#ChartsEmpty { color: #7f8c8d; padding: 40px; font-size: 11pt; }
QLabel#MetricsAbsentNote { background: white; border: 1px dashed #c8d0d8; border-radius: 6px; color: #5d6d7e;
  padding: 12px; }
"""
