"""Live-monitoring figures (printed): scalar-to-screen latency locally and over SSH, and 1M-point redraws.

Run: ``python -m tests.benchmarks.bench_monitor`` (an X display or the offscreen platform; OpenSSH's
sshd for the SSH figure).

- Latency: an event-file writer (the stand-in image's, which writes each record synchronously, as
  TAO's flush does) appends a `val_loss` point to a running job's event file and flushes; the time
  is taken until the job monitor panel's chart holds that point after its repaint
  (poll every 0.5 s + read + 40 ms coalesced repaint). Targets: <= 1 s locally, <= 2 s over SSH.
- Redraw: `setData` of a 1,000,000-point curve plus a forced synchronous repaint, with pyqtgraph's
  peak downsampling and clip-to-view (as the charts use) against the same curve without them.
  Target: <= 50 ms. Then the chart's own redraw (raw and smoothed curves): after 1,000 new points
  (the smoothing continues from the previous result) and after a change of smoothing weight.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SAMPLES = 15
REDRAW_REPEATS = 7
MILLION = 1_000_000
GROWTH = 1_000


def _process_until(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        if condition():
            return True
        time.sleep(0.001)
    return False


def _latencies(host_name: str, open_session: Callable[[str], object], workspace: Path) -> list[float]:
    from app.core.jobs.model import JobStatus
    from app.ui.monitor.job_monitor_panel import JobMonitorPanel
    from tests.infra.monitor import EVENT_SUBDIR, tao_job
    from tests.standin.tao_standin.tfevents import EventFileWriter

    job = tao_job(workspace / f"job-{host_name}", JobStatus.RUNNING, host=host_name)
    writer = EventFileWriter(Path(job.job_dir) / EVENT_SUBDIR)
    writer.add_scalar("val_loss", 1.0, 0)
    writer.flush()
    panel = JobMonitorPanel(job, open_session)  # type: ignore[arg-type]
    panel.resize(1400, 900)
    panel.show()

    def drawn_step(step: int) -> Callable[[], bool]:
        def check() -> bool:
            chart = panel.charts.chart("val_loss")
            if chart is None or job.id not in chart.job_ids:
                return False
            steps = chart.raw_points(job.id)[0]
            return bool(steps.size) and steps[-1] >= step

        return check

    if not _process_until(drawn_step(0), timeout=30):
        raise RuntimeError(f"{host_name}: the first point never appeared")
    rng = random.Random(1)
    samples = []
    for step in range(1, SAMPLES + 1):
        _process_until(lambda: False, timeout=rng.uniform(0.05, 0.6))  # land anywhere in the poll cycle
        start = time.perf_counter()
        writer.add_scalar("val_loss", 1.0 / (step + 1), step)
        writer.flush()
        if not _process_until(drawn_step(step)):
            raise RuntimeError(f"{host_name}: step {step} was not drawn within 15 s")
        samples.append(time.perf_counter() - start)
    writer.close()
    panel.shutdown()
    panel.deleteLater()
    return samples


def _print_latency(label: str, samples: list[float], target: float) -> None:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    print(f"latency {label:6s} scalar written -> drawn: median {statistics.median(samples) * 1000:6.0f} ms, "
          f"p90 {p90 * 1000:6.0f} ms, max {max(samples) * 1000:6.0f} ms (n={len(samples)}; "
          f"target <= {target:.0f} s: {'met' if max(samples) <= target else 'NOT met'})")


def bench_latency(base: Path) -> None:
    """Local and SSH latency from a written scalar to the drawn point."""
    from app.core.hosts.session import open_session
    from app.core.hosts.settings import HostConfig
    from tests.infra.sshd import start_sshd, stop_sshd

    local = open_session(HostConfig(name="local", kind="local", workspace=str(base)))
    _print_latency("local", _latencies("local", lambda _host: local, base), 1.0)
    local.close()
    try:
        server, process = start_sshd(base / "sshd")
    except (FileNotFoundError, RuntimeError) as error:
        print(f"latency ssh    skipped: {error}")
        return
    try:
        server.accept_host_key()
        remote = open_session(server.host_config(base))
        _print_latency("ssh", _latencies("lab", lambda _host: remote, base), 2.0)
        remote.close()
    finally:
        stop_sshd(process)


def _median_ms(action: Callable[[], None]) -> float:
    action()  # warm-up
    times = []
    for _ in range(REDRAW_REPEATS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bench_redraw() -> None:
    """setData + forced repaint of a 1M-point curve, with and without peak downsampling/clip-to-view."""
    import pyqtgraph as pg
    from PySide6.QtCore import QCoreApplication

    from app.core.telemetry.job_monitor import SeriesData
    from app.ui.monitor.chart import ScalarChart, with_settings

    rng = np.random.default_rng(0)
    steps = np.arange(MILLION, dtype=np.int64)
    values = np.cumsum(rng.normal(size=MILLION)).astype(np.float64) + 100.0
    walls = (1_700_000_000.0 + steps * 0.01).astype(np.float64)

    def plain_widget(fast: bool) -> tuple[pg.PlotWidget, pg.PlotDataItem]:
        widget = pg.PlotWidget(background="w")
        widget.resize(900, 260)
        widget.show()
        item = widget.getPlotItem()
        if fast:
            item.setDownsampling(auto=True, mode="peak")
            item.setClipToView(True)
        curve = pg.PlotDataItem(antialias=True)  # as the charts draw a dense curve
        item.addItem(curve)
        curve.setPen(pg.mkPen("#1f77b4", width=1.0))
        return widget, curve

    results = {}
    x = steps.astype(np.float64)
    for fast in (False, True):
        widget, curve = plain_widget(fast)

        def update(widget: pg.PlotWidget = widget, curve: pg.PlotDataItem = curve) -> None:
            curve.setData(x, values)
            widget.viewport().repaint()

        QCoreApplication.processEvents()
        results[fast] = _median_ms(update)
        widget.close()
    print(f"redraw 1M points, setData + repaint: plain {results[False]:6.1f} ms, peak downsampling + "
          f"clip-to-view {results[True]:6.1f} ms ({results[False] / results[True]:.1f}x faster; "
          f"target <= 50 ms: {'met' if results[True] <= 50 else 'NOT met'})")

    chart = ScalarChart("loss")
    chart.resize(900, 270)
    chart.show()
    grown = {"length": MILLION - 20 * GROWTH}

    def append_and_redraw() -> None:
        end = grown["length"] = grown["length"] + GROWTH
        chart.set_run("job", "job", "#1f77b4", SeriesData("loss", steps[:end], walls[:end], values[:end]))
        chart.redraw()
        chart.plot.viewport().repaint()

    weights = iter(np.linspace(0.5, 0.9, 2 * REDRAW_REPEATS))

    def resmooth_and_redraw() -> None:
        chart.settings = with_settings(chart.settings, smoothing=float(next(weights)))
        chart.redraw()
        chart.plot.viewport().repaint()

    QCoreApplication.processEvents()
    appended = _median_ms(append_and_redraw)
    resmoothed = _median_ms(resmooth_and_redraw)
    print(f"redraw ~1M points in a chart (raw + smoothed curves, y range) + repaint: {GROWTH} new points "
          f"{appended:6.1f} ms (smoothing continued); new smoothing weight {resmoothed:6.1f} ms "
          f"(smoothing redone)")
    chart.close()


def main() -> None:
    """Print the monitoring figures."""
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        os.environ["TAODESK_CONFIG_DIR"] = str(base / "config")
        os.environ["TAODESK_DATA_DIR"] = str(base / "data")
        from app.ui.application import create_application

        create_application()
        bench_redraw()
        bench_latency(base)


if __name__ == "__main__":
    main()
