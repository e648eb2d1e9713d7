"""Form benchmarks (printed figures): Sparse4D train form model + widgets, re-validation, start-up.

Run: ``python -m tests.benchmarks.bench_forms`` (needs a display or QT_QPA_PLATFORM=offscreen).
Targets: form model + widgets <= 300 ms; one re-validation after a change <= 20 ms; start to first
painted window <= 1.5 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms (min {min(samples) * 1000:.1f}, n={len(samples)})"


def bench_form_build() -> None:
    """Form model + widgets for sparse4d/train: lazy (as shown) and with every section built."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.core.skills import load_banks
    from app.core.specs.form import ActionForm
    from app.ui.application import create_application
    from app.ui.form.action_form import ActionFormView

    app = create_application()
    bank = load_banks([REPO / "skills"])
    skill = bank.skill("tao-train-sparse4d")
    model_times, lazy_times, full_times = [], [], []
    for _ in range(7):
        start = time.perf_counter()
        form = ActionForm(skill, "train")
        model_times.append(time.perf_counter() - start)
        view = ActionFormView(form)
        view.resize(700, 800)
        view.show()
        app.processEvents()
        lazy_times.append(time.perf_counter() - start)
        for section in list(view.sections.values()):
            section.ensure_built()
            section.set_expanded(True)
        app.processEvents()
        full_times.append(time.perf_counter() - start)
        rows = sum(1 for _ in view.all_rows())
        view.close()
        view.deleteLater()
        app.processEvents()
    print(f"sparse4d/train form model only:                 {_median_ms(model_times)}")
    print(f"form model + widgets as first shown (lazy):     {_median_ms(lazy_times)}  (target <= 300 ms)")
    print(f"form model + every section built ({rows} rows): {_median_ms(full_times)}")
    validation: list[float] = []
    form = ActionForm(skill, "train")
    for value in range(1, 60):
        start = time.perf_counter()
        form.set_value("train.num_epochs", value)
        validation.append(time.perf_counter() - start)
    print(f"one field change + full re-validation:          {_median_ms(validation)}  (target <= 20 ms)")


def bench_startup() -> None:
    """From process start to the main window's first paint."""
    samples = []
    env = dict(os.environ, TAODESK_REPORT_FIRST_PAINT="1")
    for _ in range(5):
        start = time.time()
        out = subprocess.run(
            [sys.executable, "-m", "app"], capture_output=True, text=True, env=env, timeout=60, cwd=REPO
        )
        line = next((x for x in out.stdout.splitlines() if x.startswith("first-paint ")), None)
        if line is None:
            print("start-up: no first paint reported:", out.stderr[-400:])
            return
        samples.append(float(line.split()[1]) - start)
    print(f"taodesk start to first painted window:          {_median_ms(samples)}  (target <= 1500 ms)")


if __name__ == "__main__":
    bench_form_build()
    bench_startup()
