"""Follow a TensorBoard run folder: every event file in it, growing files, new files.

TAO's PyTorch trainers log through Lightning's TensorBoardLogger with a fixed version, so a task's
event files live in `<task results dir>/lightning_logs/version_1/`, and a resumed or restarted
training adds another `events.out.tfevents.*` file to the same folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.core.telemetry.files import ByteSource, join_path
from app.core.telemetry.problems import ReadProblem, report
from app.core.telemetry.series import ScalarSeries
from app.core.telemetry.tfevents import ScalarBatch, ScalarEventStream

TAO_EVENT_SUBDIR = "lightning_logs/version_1"
DEFAULT_READ_CHUNK = 8 << 20


def tao_event_dir(task_results_dir: str) -> str:
    """Where a TAO PyTorch task (e.g. `<results_dir>/train`) writes its TensorBoard event files."""
    return join_path(task_results_dir, TAO_EVENT_SUBDIR)


def is_event_file(name: str) -> bool:
    """TensorBoard's own test: the file name contains 'tfevents'."""
    return "tfevents" in name


@dataclass
class _EventFile:
    name: str
    stream: ScalarEventStream
    read_offset: int = 0


class EventRunReader:
    """One merged scalar series per tag over all event files of a run folder.

    Each `poll()` lists the folder and reads only the bytes appended since the previous poll, from
    every event file (a new file is read from its start). Tags are the writer's tags (Lightning
    writes `train_loss_step`, `lr`, `val_loss`, ...).

    Several files are merged by file, then by step: files are ordered by name (TensorBoard names
    start with the creation time), and for each tag a later file takes over from its first step,
    so the points of earlier files at or after that step are dropped. A training restarted from a
    checkpoint therefore replaces the orphaned steps of the crashed run instead of being drawn over
    them (TensorBoard keeps both timelines for current event files and purges only for older
    TensorFlow ones). Within a file, a step that goes back likewise drops the stored points at or
    after it, so every series stays sorted by step.

    File access goes through a `ByteSource`, so the same reader follows a local folder or one on an
    SSH host. A folder that does not exist yet is simply empty; read errors are reported in
    `problems` and retried at the next poll.
    """

    def __init__(self, source: ByteSource, run_dir: str, *, read_chunk: int = DEFAULT_READ_CHUNK) -> None:
        self.source = source
        self.run_dir = run_dir
        self.read_chunk = max(1, read_chunk)
        self._files: dict[str, _EventFile] = {}
        self._series: dict[str, ScalarSeries] = {}
        self._first_steps: dict[str, dict[str, int]] = {}  # tag -> file name -> its first step
        self._own_problems: list[ReadProblem] = []
        self._last_error = ""

    @property
    def scalars(self) -> Mapping[str, ScalarSeries]:
        """Tag -> merged series (the series objects stay the same across polls)."""
        return self._series

    def tags(self) -> list[str]:
        """The tags seen so far, sorted."""
        return sorted(self._series)

    def series(self, tag: str) -> ScalarSeries:
        """The merged series of `tag` (KeyError if the tag was never seen)."""
        return self._series[tag]

    @property
    def files(self) -> list[str]:
        """Names of the event files followed so far, in merge order."""
        return sorted(self._files)

    @property
    def problems(self) -> list[ReadProblem]:
        """Every problem so far: folder or read errors, corrupt or truncated records."""
        found = list(self._own_problems)
        for name in sorted(self._files):
            found.extend(self._files[name].stream.problems)
        return found

    def poll(self, max_bytes: int | None = None) -> set[str]:
        """Read what is new in the folder; return the tags whose series changed.

        `max_bytes` bounds how much is read in this call (the rest is read by the next polls), so a
        caller can show a large run progressively.
        """
        entries = self._list_event_files()
        changed: set[str] = set()
        budget = max_bytes if max_bytes is not None else -1
        for name, size in entries:
            state = self._files.get(name)
            if state is None:
                state = self._files[name] = _EventFile(name, ScalarEventStream(join_path(self.run_dir, name)))
            if size < state.read_offset:
                self._note(f"{join_path(self.run_dir, name)} shrank from {state.read_offset} to {size} "
                           "bytes (replaced?); reading the run again")
                self.reset()
                return set(self._series) | self.poll(max_bytes)
            budget = self._read_new_bytes(state, size, budget, changed)
            if budget == 0:
                break
        return changed

    def finish(self) -> None:
        """Declare the run complete: a partial record left at the end of a file is reported."""
        for state in self._files.values():
            state.stream.finish()

    def reset(self) -> None:
        """Forget all read positions and empty every series (the series objects are kept)."""
        self._files.clear()
        self._first_steps.clear()
        for series in self._series.values():
            series.clear()

    def _list_event_files(self) -> list[tuple[str, int]]:
        try:
            entries = self.source.list_dir(self.run_dir)
        except FileNotFoundError:
            return []
        except OSError as error:
            self._note(f"cannot list {self.run_dir}: {error}")
            return []
        return sorted((entry.name, entry.size) for entry in entries if is_event_file(entry.name))

    def _read_new_bytes(self, state: _EventFile, size: int, budget: int, changed: set[str]) -> int:
        path = join_path(self.run_dir, state.name)
        while state.read_offset < size and budget != 0:
            want = min(self.read_chunk, size - state.read_offset)
            if budget > 0:
                want = min(want, budget)
            try:
                chunk = self.source.read_range(path, state.read_offset, want)
            except OSError as error:
                self._note(f"cannot read {path}: {error}")
                break
            if not chunk:
                break
            state.read_offset += len(chunk)
            if budget > 0:
                budget -= len(chunk)
            for batch in state.stream.feed(chunk):
                if self._merge(state.name, batch):
                    changed.add(batch.tag)
        return budget

    def _merge(self, file_name: str, batch: ScalarBatch) -> bool:
        """Add a file's new points to its tag's series; False if they were all superseded."""
        series = self._series.get(batch.tag)
        if series is None:
            series = self._series[batch.tag] = ScalarSeries(batch.tag)
        first_steps = self._first_steps.setdefault(batch.tag, {})
        first_steps.setdefault(file_name, int(batch.steps[0]))
        later = [step for name, step in first_steps.items() if name > file_name]
        if not later:
            series.extend_purging_rewinds(batch.steps, batch.wall_times, batch.values)
            return True
        keep = batch.steps < min(later)  # an earlier file still being written
        series.insert_sorted(batch.steps[keep], batch.wall_times[keep], batch.values[keep])
        return bool(keep.any())

    def _note(self, message: str) -> None:
        if message != self._last_error:
            report(self._own_problems, ReadProblem(self.run_dir, message))
        self._last_error = message
