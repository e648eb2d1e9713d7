"""Opening a viewer: on a finished job's results (read from its host), on files, or on a sample.

Each function returns the viewer at once; the files are read in the background and the viewer shows
them, or says why it cannot.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.core.hosts.session import HostSession
from app.core.jobs.model import Job
from app.ui.viewers.chrome import MessageBanner
from app.ui.viewers.pose_viewer import PoseViewer
from app.ui.viewers.result_files import FileAccess, HostFiles, ResultFileError
from app.ui.viewers.result_loading import PoseBundle, TrackBundle, load_pose_bundle, load_track_bundle
from app.ui.viewers.result_sources import (
    PoseSource,
    ResultSource,
    TrackSource,
    sample_pose_source,
    sample_track_source,
    source_for_job,
    source_from_files,
)
from app.ui.viewers.tracks_viewer import TracksViewer

ResultViewer = TracksViewer | PoseViewer


def viewer_kind(skill: str) -> str | None:
    """``"tracks"``, ``"poses"`` or None: which viewer shows a skill's results."""
    if "sparse4d" in skill:
        return "tracks"
    if "pose" in skill:
        return "poses"
    return None


def load_job_tracks(job: Job, files: FileAccess) -> TrackBundle:
    """Find and read a Sparse4D job's results on its host (runs in a worker)."""
    source = source_for_job(job, files)
    if not isinstance(source, TrackSource):
        raise ResultFileError(f"job {job.id}: {job.skill} does not write 3D tracks")
    return load_track_bundle(source, files)


def load_job_poses(job: Job, files: FileAccess) -> PoseBundle:
    """Find and read a pose classification job's results on its host (runs in a worker)."""
    source = source_for_job(job, files)
    if not isinstance(source, PoseSource):
        raise ResultFileError(f"job {job.id}: {job.skill} does not write pose classifications")
    return load_pose_bundle(source, files)


def open_job_results(job: Job, session: HostSession, parent: QWidget | None = None) -> QWidget:
    """A viewer for a job's results, read from its host (local files or SFTP) in the background."""
    files = HostFiles(session)
    kind = viewer_kind(job.skill)
    where = f"job {job.id} on host '{session.name}'"
    if kind == "tracks":
        tracks = TracksViewer(parent)
        tracks.start_loading(f"Reading the results of {where} …", load_job_tracks, job, files)
        return tracks
    if kind == "poses":
        poses = PoseViewer(parent)
        poses.start_loading(f"Reading the results of {where} …", load_job_poses, job, files)
        return poses
    notice = MessageBanner(parent)
    notice.show_message(f"There is no results viewer for {job.skill} yet.", "info")
    return notice


def open_source(
    source: ResultSource, files: FileAccess | None = None, parent: QWidget | None = None
) -> ResultViewer:
    """The right viewer for a set of result files, loading them in the background."""
    if isinstance(source, TrackSource):
        tracks = TracksViewer(parent)
        tracks.load(source, files)
        return tracks
    poses = PoseViewer(parent)
    poses.load(source, files)
    return poses


def open_files(paths: list[str], parent: QWidget | None = None) -> ResultViewer:
    """A viewer for local files the user picked or dropped (ValueError with advice if they do not fit)."""
    return open_source(source_from_files(paths), parent=parent)


def open_sample(kind: str, parent: QWidget | None = None) -> ResultViewer:
    """A viewer on a bundled sample: ``"tracks"`` (Sparse4D) or ``"poses"`` (pose classification)."""
    return open_source(sample_track_source() if kind == "tracks" else sample_pose_source(), parent=parent)
