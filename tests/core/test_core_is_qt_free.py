"""The core must import without Qt: a subprocess blocks PySide6, pyqtgraph and vispy, then imports it all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'vispy', 'shiboken6'):
            raise ImportError('blocked in the core: ' + name)
        return None
sys.meta_path.insert(0, Block())
import app.core
names = [m.name for m in pkgutil.walk_packages(app.core.__path__, 'app.core.')]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_every_core_module_imports_with_qt_blocked(repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=repo_root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip().splitlines()[-1]) >= 10
