"""The OPE runner's visualisation hook: a video per sequence, or a live window where a display exists."""
import os

from ientrack.vis.display import VideoSink, Window
from ientrack.vis.draw import draw_frame


class SequenceRecorder:
    """``vis_fn(seq, frame_index, image, result)`` for :func:`ientrack.eval.runner.run_ope`.

    Draws ground truth and prediction on every frame and writes ``<out_dir>/<seq>.mp4`` (``show=False``)
    or shows a window (``show=True``). Holds no open resources until the first frame, so it can be
    pickled into worker processes.
    """

    def __init__(self, out_dir: str, show: bool = False):
        self.out_dir = out_dir
        self.show = show
        self._sink = None

    def __call__(self, seq, index, image, result):
        if index == 0:
            self._sink = Window(seq.name) if self.show else VideoSink(os.path.join(self.out_dir, f"{seq.name}.mp4"))
        polygon = seq.polygons[index] if seq.polygons is not None else None
        gt_box = seq.gt[index] if seq.gt is not None else None
        canvas = draw_frame(image, index, result, gt_box=gt_box, gt_polygon=polygon, one_based=seq.one_based)
        (self._sink.show if self.show else self._sink.write)(canvas)
        if index == len(seq) - 1:
            self._sink.close()
            self._sink = None

