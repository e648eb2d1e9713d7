"""``taodesk view tracks|poses``: open a results viewer on files, or render it to a PNG and exit.

With ``--screenshot`` the viewer is drawn without user interaction (under Xvfb on a machine without
a screen; without any display the 3D view is replaced by a notice) and the command exits: 0 when the
results were shown, 1 when the viewer could only show an error message, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from app.cli import UsageError

if TYPE_CHECKING:
    from app.ui.viewers.bundle_viewer import BundleViewer

SETTLE_SECONDS = 15.0
Bundle = TypeVar("Bundle")


def register(sub: Any) -> None:
    """Add the ``view`` command."""
    parser = sub.add_parser("view", help="look at inference results (3D tracks, skeletons, confusion matrix)")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    tracks = kinds.add_parser("tracks", help="Sparse4D results_nusc.json: top view, 3D view, cameras")
    tracks.add_argument("results", metavar="RESULTS_JSON")
    tracks.add_argument(
        "--infos",
        action="append",
        default=[],
        metavar="PKL",
        help="converted infos pickle: ground truth and cameras (repeatable)",
    )
    tracks.add_argument(
        "--metrics", metavar="JSON", help="metrics_summary.json (default: next to the results)"
    )
    tracks.add_argument(
        "--data-root",
        action="append",
        default=[],
        metavar="DIR",
        help="where the camera images are (default: the infos' folder)",
    )
    tracks.add_argument("--threshold", type=float, metavar="SCORE", help="hide boxes scoring below this")
    tracks.add_argument("--frame", type=int, default=1, metavar="N", help="frame to show first (1-based)")
    tracks.add_argument("--select", metavar="TRACK_ID", help="highlight this tracking id")
    _common(tracks)
    tracks.set_defaults(handler=run_tracks)
    poses = kinds.add_parser("poses", help="pose classification: confusion matrix, sequences, skeletons")
    poses.add_argument("data", metavar="DATA_NPY")
    poses.add_argument("--pred", required=True, metavar="TXT", help="inference output (one class per line)")
    poses.add_argument("--labels", metavar="PKL", help="label pickle (sample names, true labels)")
    poses.add_argument("--label-map", metavar="YAML", help="label map (or a spec with dataset.label_map)")
    poses.add_argument("--layout", metavar="NAME", help="skeleton layout (model.graph_layout)")
    poses.add_argument(
        "--sequence", type=int, default=0, metavar="N", help="sequence to show first (0-based)"
    )
    _common(poses)
    poses.set_defaults(handler=run_poses)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--screenshot", metavar="PNG", help="render to this PNG and exit instead of opening a window"
    )
    parser.add_argument("--size", default="1500x950", metavar="WxH", help="window size (default 1500x950)")


def _existing(path: str | None, what: str) -> str | None:
    if path is not None and not Path(path).is_file():
        raise UsageError(f"{what} {path} does not exist")
    return path


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as exc:
        raise UsageError(f"--size should look like 1500x950, got {text!r}") from exc
    return max(width, 400), max(height, 300)


def _application(screenshot: str | None) -> Any:
    if screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.ui.application import create_application

    return create_application()


def _settle(app: Any, busy: Any) -> None:
    """Let workers and paints finish (at most SETTLE_SECONDS)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        app.processEvents()
        if not busy():
            break
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()
        time.sleep(0.01)


def _show_loaded(
    viewer: BundleViewer,
    title: str,
    size: tuple[int, int],
    load: Callable[[], Bundle],
    warnings: Callable[[Bundle], list[str]],
) -> Bundle | None:
    """Open the viewer and show what ``load`` reads, with its ``warnings`` printed; None (the message
    shown and printed) when nothing could be read."""
    viewer.setWindowTitle(f"TAO Desk · {title}")
    viewer.resize(*size)
    viewer.show()
    try:
        bundle = load()
    except ValueError as exc:  # the results' and files' errors are ValueErrors with a message for the user
        viewer.show_error(str(exc))
        print(f"taodesk: {exc}", file=sys.stderr)
        return None
    viewer.set_bundle(bundle)
    for warning in warnings(bundle):
        print(f"warning: {warning}", file=sys.stderr)
    return bundle


def _finish(app: Any, viewer: Any, args: argparse.Namespace, shown: bool) -> int:
    if not args.screenshot:
        return int(app.exec())
    if not viewer.grab().save(args.screenshot, "PNG"):
        print(f"taodesk: could not write {args.screenshot}", file=sys.stderr)
        return 1
    print(f"saved {args.screenshot}")
    return 0 if shown else 1


def run_tracks(args: argparse.Namespace) -> int:
    """Show (or render) a Sparse4D result."""
    _existing(args.results, "results file")
    for path in args.infos:
        _existing(path, "infos file")
    _existing(args.metrics, "metrics file")
    width, height = _size(args.size)
    app = _application(args.screenshot)
    from app.ui.viewers.result_loading import load_track_bundle
    from app.ui.viewers.result_sources import TrackSource
    from app.ui.viewers.tracks_viewer import TracksViewer

    results = Path(args.results)
    sibling = results.parent / "metrics_summary.json"
    roots = args.data_root + [str(Path(path).parent) for path in args.infos] + [str(results.parent)]
    source = TrackSource(
        results=str(results),
        infos=list(args.infos),
        metrics=args.metrics or (str(sibling) if sibling.is_file() else None),
        image_roots=list(dict.fromkeys(roots)),
        score_threshold=args.threshold,
        title=results.name,
    )
    viewer = TracksViewer()
    if viewer.gl_problem:
        print(f"note: 3D view unavailable: {viewer.gl_problem}", file=sys.stderr)
    bundle = _show_loaded(
        viewer, results.name, (width, height), lambda: load_track_bundle(source), lambda b: b.warnings
    )
    shown = bundle is not None
    if bundle is not None:
        viewer.timeline.set_frame(args.frame - 1)
        if args.select is not None:
            if args.select not in bundle.tracks.track_names:
                raise UsageError(f"no track with tracking id {args.select} in {results}")
            viewer.select_track(bundle.tracks.track_names.index(args.select))
        viewer.redraw_now()
    if args.screenshot:
        _settle(
            app,
            lambda: (
                viewer.tasks.busy
                or viewer.cameras.images_pending
                or viewer.match_timer.isActive()
                or viewer.redraw_timer.isActive()
            ),
        )
        viewer.redraw_now()
        _settle(app, lambda: viewer.cameras.images_pending)
    return _finish(app, viewer, args, shown)


def run_poses(args: argparse.Namespace) -> int:
    """Show (or render) a pose classification result."""
    for path, what in (
        (args.data, "data file"),
        (args.pred, "inference output"),
        (args.labels, "label file"),
        (args.label_map, "label map"),
    ):
        _existing(path, what)
    width, height = _size(args.size)
    app = _application(args.screenshot)
    from app.ui.viewers.pose_viewer import PoseViewer
    from app.ui.viewers.result_loading import load_pose_bundle
    from app.ui.viewers.result_sources import PoseSource

    label_map = args.label_map
    if label_map is None:
        candidates = [Path(args.pred).parent / "label_map.yaml", Path(args.data).parent / "label_map.yaml"]
        label_map = next((str(path) for path in candidates if path.is_file()), None)
    source = PoseSource(args.pred, args.data, args.labels, label_map, args.layout, title=Path(args.data).name)
    viewer = PoseViewer()
    if viewer.skeleton.gl_problem:
        print(f"note: 3D view unavailable: {viewer.skeleton.gl_problem}", file=sys.stderr)
    bundle = _show_loaded(
        viewer,
        Path(args.data).name,
        (width, height),
        lambda: load_pose_bundle(source),
        lambda b: ([b.layout_problem] if b.layout_problem else []) + b.warnings,
    )
    shown = bundle is not None
    if bundle is not None and 0 <= args.sequence < bundle.results.num_sequences:
        viewer.sequences.set_filter(None, None)
        viewer.sequences.select_row(args.sequence)
    if args.screenshot:
        _settle(app, lambda: viewer.tasks.busy)
    return _finish(app, viewer, args, shown)
