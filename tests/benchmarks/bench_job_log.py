"""Job log throughput in the GUI and GUI launch latency (printed figures, no timed asserts).

Run: ``python -m tests.benchmarks.bench_job_log`` (under X: ``QT_QPA_PLATFORM=xcb DISPLAY=...``;
without a display it falls back to the offscreen platform). The launch part needs Docker and the
stand-in image and is skipped without them.

1. 100,000 TAO-like log lines in Docker's timestamped format (tqdm progress bars redrawn with
   ``\\r``, warnings, a traceback now and then) are parsed by the real `LogStream` in a producer
   thread and fed to a `JobLogView` through its queue; the GUI thread paints them on the view's
   timer. A 5 ms timer records when the event loop gets to run: the longest gap is the worst stall
   a user would feel. The same is measured with the view at capacity (trimming old lines), and
   for a reference in the same run: the naive approach, one queued signal and one
   ``appendPlainText`` per line, on 10,000 lines.
2. Launch latency: a click on Launch in the pose train page's launch bar until the container
   runs (and until the job's page is shown), against ``JobManager.launch`` called directly.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LINES = 100_000
NAIVE_LINES = 10_000
CHUNK_BYTES = 64 * 1024
LAUNCH_RUNS = 3


def tao_like_log(count: int) -> Iterator[bytes]:
    """Docker log bytes with timestamps: epochs of tqdm bars, metrics, warnings and a traceback."""
    base = 1_763_724_377
    for index in range(count):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + index // 50))
        prefix = f"{stamp}.{index % 1_000_000_000:09d}Z "
        epoch, step = divmod(index, 200)
        if index % 10 == 0:
            loss = 1 / (1 + index / 900)
            text = "\r".join(
                f"Epoch {epoch}: {p:3d}%|{'█' * (p // 10):10s}| {p * 2}/200 "
                f"[00:{p // 4:02d}<00:25, 7.9it/s, loss={loss:.3f}]"
                for p in range(0, 101, 25)
            )
        elif index % 97 == 5:
            text = f"[NeMo W {stamp[:10]} {stamp[11:]} logging:349] WARNING: worker {index % 8} is slow"
        elif index % 5003 == 17:
            text = "Traceback (most recent call last):"
        elif index % 5003 == 18:
            text = '  File "/usr/lib/python3/dist-packages/nvidia_tao_pytorch/core/loop.py", line 88, in run'
        elif index % 5003 == 19:
            text = "RuntimeError: CUDA out of memory. Tried to allocate 20.00 MiB (recovered, retrying)"
        else:
            text = (
                f"[NeMo I {stamp[:10]} {stamp[11:]} train:212] epoch={epoch} step={step} "
                f"train_loss={1 / (1 + index / 700):.5f} lr=0.0010 throughput=812.4 samples/s"
            )
        yield (prefix + text + "\n").encode()


def log_bytes(count: int) -> list[bytes]:
    """The log cut into chunks as a stream would deliver it (chunk borders split lines)."""
    data = b"".join(tao_like_log(count))
    return [data[start : start + CHUNK_BYTES] for start in range(0, len(data), CHUNK_BYTES)]


class StallMeter:
    """Records when a 5 ms timer fires; the longest gap is the worst event-loop stall."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def __enter__(self) -> StallMeter:
        self.ticks = [time.perf_counter()]
        self.timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.timer.stop()

    def gaps_ms(self) -> list[float]:
        """Gaps between consecutive ticks, in milliseconds."""
        return [(b - a) * 1000 for a, b in zip(self.ticks, self.ticks[1:], strict=False)]


def spin_until(done: Callable[[], bool], timeout: float = 300.0) -> None:
    """Run a real Qt event loop (as the app does) until ``done()`` or the timeout."""
    from PySide6.QtCore import QEventLoop, QTimer

    if done():
        return
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: loop.quit() if done() or time.perf_counter() > deadline else None)
    check.start()
    loop.exec()
    check.stop()
    if not done():
        raise TimeoutError("the benchmark did not finish in time")


def measure_view(chunks: list[bytes], expected: int, max_lines: int) -> tuple[float, list[float]]:
    """Feed the chunks through LogStream into a JobLogView; (seconds until painted, stall gaps)."""
    from app.core.telemetry.logs import LogStream
    from app.ui.job_log_view import JobLogView

    view = JobLogView(max_lines=max_lines)
    view.resize(1200, 700)
    view.show()
    spin_until(lambda: view.isVisible(), 5)

    def produce() -> None:
        parser = LogStream()
        for chunk in chunks:
            view.feed(parser.feed(chunk))
        view.feed(parser.flush())

    producer = threading.Thread(target=produce, daemon=True)
    with StallMeter() as meter:
        start = time.perf_counter()
        producer.start()
        spin_until(lambda: view.received_count >= expected and not view.pending)
        elapsed = time.perf_counter() - start
    producer.join()
    shown = view.text.document().blockCount()
    assert shown == min(expected, max_lines), f"the view shows {shown} lines"
    view.close()
    view.deleteLater()
    return elapsed, meter.gaps_ms()


def measure_naive(chunks: list[bytes], expected: int) -> tuple[float, list[float]]:
    """The reference: one queued signal and one appendPlainText per line."""
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QPlainTextEdit

    from app.core.telemetry.logs import LogStream

    class Relay(QObject):
        line = Signal(str)

    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.resize(1200, 700)
    view.show()
    relay = Relay()
    received = [0]

    def on_line(text: str) -> None:
        view.appendPlainText(text)
        received[0] += 1

    relay.line.connect(on_line)

    def produce() -> None:
        parser = LogStream()
        for chunk in chunks:
            for line in parser.feed(chunk):
                relay.line.emit(line.text)
        for line in parser.flush():
            relay.line.emit(line.text)

    producer = threading.Thread(target=produce, daemon=True)
    with StallMeter() as meter:
        start = time.perf_counter()
        producer.start()
        spin_until(lambda: received[0] >= expected)
        elapsed = time.perf_counter() - start
    producer.join()
    view.close()
    view.deleteLater()
    return elapsed, meter.gaps_ms()


def report(name: str, lines: int, elapsed: float, gaps: list[float]) -> float:
    """Print one measurement; return lines per second."""
    rate = lines / elapsed
    if not lines:
        ordered = sorted(gaps)
        print(
            f"{name:58s} worst gap {max(gaps, default=0):6.1f} ms, p99 "
            f"{ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0:5.1f} ms"
        )
        return 0.0
    ordered = sorted(gaps)
    p99 = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0
    print(
        f"{name:44s} {lines:7,d} lines in {elapsed:6.2f} s = {rate:9,.0f} lines/s; "
        f"worst UI stall {max(gaps, default=0):6.1f} ms, p99 {p99:5.1f} ms"
    )
    return rate


def print_verdict(gaps: list[float], target_ms: float = 100.0) -> None:
    """Say whether the worst stall stayed under the target."""
    worst = max(gaps, default=0.0)
    print(f"  {'meets' if worst <= target_ms else 'MISSES'} the {target_ms:g} ms stall target")


def log_throughput() -> None:
    """Part 1."""
    with StallMeter() as meter:
        start = time.perf_counter()
        spin_until(lambda: time.perf_counter() - start > 3.0)
    report("reference: idle event loop, 3 s (machine noise)", 0, 3.0, meter.gaps_ms())
    chunks = log_bytes(LINES)
    print(
        f"log: {LINES:,} lines, {sum(map(len, chunks)) / 1e6:.1f} MB in {len(chunks)} chunks of "
        f"{CHUNK_BYTES // 1024} KiB"
    )
    elapsed, gaps = measure_view(chunks, LINES, 200_000)
    rate = report("JobLogView (queue + 40 ms timer)", LINES, elapsed, gaps)
    print_verdict(gaps)
    elapsed, gaps = measure_view(chunks, LINES, 20_000)
    report("JobLogView at capacity (max 20,000 lines)", LINES, elapsed, gaps)
    print_verdict(gaps)
    naive_chunks = log_bytes(NAIVE_LINES)
    elapsed, gaps = measure_naive(naive_chunks, NAIVE_LINES)
    naive_rate = report("reference: signal + append per line", NAIVE_LINES, elapsed, gaps)
    print(f"  JobLogView absorbs {rate / naive_rate:.1f}x the lines per second of the reference")


def launch_latency() -> None:
    """Part 2."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from app.core.hosts.settings import HostStore
    from app.core.jobs.manager import LaunchRequest
    from app.core.jobs.model import JobStatus
    from app.core.skills import load_banks
    from app.core.specs.overrides import parse_override
    from app.core.specs.service import render_spec
    from app.ui.action_page import ActionPage
    from app.ui.app_context import AppContext
    from tests.infra.jobs import REPO, local_host, pose_overrides, standin_available
    from tests.standin.make_pose_data import make_pose_dataset

    if not standin_available():
        print("launch latency: skipped (no Docker engine or no stand-in image)")
        return
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        os.environ["TAODESK_CONFIG_DIR"] = str(base / "config")
        os.environ["TAODESK_DATA_DIR"] = str(base / "data")
        HostStore().put(local_host(base / "workspace"))
        data = make_pose_dataset(base / "data" / "pose", 64, 24, 24, 4, frames=60, seed=1)
        overrides = pose_overrides(data, epochs=1)
        context = AppContext(load_banks([REPO / "skills"]))
        skill = context.bank.skill("tao-train-pose-classification")
        page = ActionPage(skill, "train", context=context)
        page.resize(1400, 900)
        page.show()
        for text in overrides:
            override = parse_override(text)
            if page.form.root.find(override.key) is not None:
                page.form.set_value(override.key, override.value)
        panel = page.launch_panel
        assert panel is not None
        spin_until(lambda: panel.gpus.inventory is not None and panel.launch_button.isEnabled(), 60)
        running_at: dict[str, float] = {}

        def on_changed(job_id: str) -> None:
            job = context.store.find(job_id)
            if job is not None and job.status is JobStatus.RUNNING:
                running_at.setdefault(job_id, time.perf_counter())

        context.store.changed.connect(on_changed)
        to_running, to_page = [], []
        for _ in range(LAUNCH_RUNS):
            previous = panel.last_job_id
            clicked = time.perf_counter()
            QTest.mouseClick(panel.launch_button, Qt.MouseButton.LeftButton)
            spin_until(lambda prev=previous: panel.last_job_id != prev, 120)  # type: ignore[misc]
            shown = time.perf_counter()
            job_id = panel.last_job_id
            assert job_id is not None
            to_running.append(running_at[job_id] - clicked)
            to_page.append(shown - clicked)
            context.manager.wait(job_id, poll_seconds=0.2, timeout=120)
            spin_until(lambda: panel.launch_button.isEnabled(), 30)
        direct = []
        for _ in range(LAUNCH_RUNS):
            spec = render_spec(skill, "train", overrides=overrides)
            start = time.perf_counter()
            job = context.manager.launch(LaunchRequest(skill.name, "train", "local", spec))
            direct.append(time.perf_counter() - start)
            context.manager.wait(job.id, poll_seconds=0.2, timeout=120)
        gui = statistics.median(to_running)
        core = statistics.median(direct)
        print(
            f"launch: click -> container running  median {gui * 1000:6.0f} ms "
            f"(min {min(to_running) * 1000:.0f}, max {max(to_running) * 1000:.0f}, n={LAUNCH_RUNS})"
        )
        print(f"launch: click -> job page shown     median {statistics.median(to_page) * 1000:6.0f} ms")
        print(
            f"launch: JobManager.launch directly  median {core * 1000:6.0f} ms; GUI/direct = {gui / core:.2f}"
        )
        for job in context.store.all():
            context.manager.delete(job.id)
        page.close()
        context.close()


def main() -> None:
    """Run both parts."""
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import sys

    from app.ui.application import create_application

    create_application()  # also shortens the interpreter's switch interval, as in the app
    print(
        f"Qt platform: {os.environ.get('QT_QPA_PLATFORM', 'default')}, "
        f"interpreter switch interval {sys.getswitchinterval() * 1000:g} ms"
    )
    log_throughput()
    launch_latency()


if __name__ == "__main__":
    main()
