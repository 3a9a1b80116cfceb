"""tools/test.py --vis without a display writes a video per sequence and says where, on its last line."""
import json
import sys
from pathlib import Path

from conftest import shared_path

from ientrack.data.otb import load_otb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import test as test_cli  # noqa: E402


def test_vis_without_a_display_says_where_the_videos_went(tmp_path, monkeypatch, capsys):
    root = shared_path("otb")
    sequence = load_otb(root, sequences=["Football1"])["Football1"]
    names = [str(Path(p).relative_to(root)) for p in sequence.frame_paths[:8]]
    gt = sequence.gt[:8].tolist()
    annotations = tmp_path / "Tiny.json"
    annotations.write_text(json.dumps({"Football1": {"name": "Football1", "img_names": names, "gt_rect": gt,
                                                     "init_rect": gt[0], "attr": []}}))
    monkeypatch.setattr("ientrack.vis.display.display_available", lambda: False)
    results = tmp_path / "results"
    test_cli.main(["--tracker", "opencv_mil", "--dataset", str(annotations), "--dataset-root", str(root), "--vis",
                   "--results-dir", str(results), "--report-dir", str(tmp_path / "reports"), "--no-progress"])
    videos = results / "Tiny" / "opencv_mil" / "videos"
    assert (videos / "Football1.mp4").is_file()
    assert capsys.readouterr().out.splitlines()[-1] == f"videos: {videos}"
