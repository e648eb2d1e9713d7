"""The telemetry readers stay light: no Qt, no TensorFlow/TensorBoard, no protobuf runtime."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FORBIDDEN = ["PySide6", "pyqtgraph", "vispy", "tensorflow", "tensorboard", "tensorboardX", "google.protobuf"]


def test_importing_every_telemetry_module_loads_no_heavy_dependency(repo_root: Path) -> None:
    package = repo_root / "app" / "core" / "telemetry"
    modules = sorted(path.stem for path in package.glob("*.py") if path.stem != "__init__")
    assert len(modules) >= 12
    script = (
        "import sys\n"
        + "".join(f"import app.core.telemetry.{module}\n" for module in modules)
        + f"forbidden = {FORBIDDEN!r}\n"
        + "print([name for name in sys.modules if name in forbidden or name.split('.')[0] in forbidden])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=repo_root, capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"
