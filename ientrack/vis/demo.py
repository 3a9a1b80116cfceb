"""Track one target through a video, camera or folder of frames, drawing every result."""
import itertools
import warnings

import cv2

from ientrack.trackers.base import track_frames
from ientrack.trackers.registry import build_tracker
from ientrack.vis.display import VideoSink, Window, display_available
from ientrack.vis.draw import draw_frame
from ientrack.vis.sources import frame_source


def select_box(rgb):
    """Let the user draw the initial box with the mouse (needs a display)."""
    x, y, w, h = cv2.selectROI("ientrack: select the target, then press Enter", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    cv2.destroyAllWindows()
    if w <= 0 or h <= 0:
        raise ValueError("no box selected")
    return [x, y, w, h]


def run_demo(tracker_name: str, source: str, box=None, output: str = None, show: bool = None,
             max_frames: int = None, **tracker_overrides):
    """Run ``tracker_name`` over ``source`` from ``box`` (x, y, w, h; chosen with the mouse when omitted
    and a display exists). Writes a video to ``output`` when given; shows a live window when a display
    exists (``show=None``) or when ``show=True``; warns on stderr when it will do neither. Returns the list
    of :class:`TrackResult`. An initial box not in the first frame is a ``ValueError``."""
    show = display_available() if show is None else show
    if box is None and not show:
        raise ValueError("no display to choose the box with the mouse: pass the initial box as x,y,w,h")
    if not show and not output:
        warnings.warn("no display (or --no-window) and no --output: nothing will be shown or saved", stacklevel=2)
    tracker = build_tracker(tracker_name, **tracker_overrides)
    sink = VideoSink(output) if output else None
    window = Window() if show else None
    results, elapsed = [], 0.0
    frames = itertools.islice(frame_source(source), max_frames)
    if box is None:  # drawn with the mouse on the first frame, which then starts the loop
        first = next(frames)
        box, frames = select_box(first), itertools.chain([first], frames)
    try:
        for index, frame, result, seconds in track_frames(tracker, frames, box):
            elapsed += seconds
            if index:
                results.append(result)
            canvas = draw_frame(frame, index, result if index else None, gt_box=None if index else box)
            if sink:
                sink.write(canvas)
            if window and not window.show(canvas):
                break
    finally:
        if sink:
            sink.close()
        if window:
            window.close()
    fps = (len(results) + 1) / elapsed if elapsed > 0 else float("nan")
    print(f"{tracker.name}: {len(results) + 1} frames at {fps:.1f} fps" + (f", video: {sink.path}" if sink else ""))
    return results
