"""Loader workers forked after OpenCV's thread pool ran must not hang: a training whose process had just
generated Builtin-train hung before its first step (ientrack.train.loader.ForkSafeLoader)."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    import cv2, numpy as np, skimage.data
    from ientrack.data.pairs import StillImagePairSource
    from ientrack.train.tracker_trainer import train_tracker

    cv2.setNumThreads(2)
    big = np.zeros((1500, 1500, 3), np.uint8)
    for _ in range(3):  # the pool is up, as after generating a dataset in this process
        cv2.warpAffine(big, np.eye(2, 3), (1500, 1500))
    config = {"name": "fork_test", "backbone": "alexnet", "exemplar_size": 127, "instance_size": 191}
    photos = StillImagePairSource([skimage.data.astronaut(), skimage.data.chelsea()])
    result = train_tracker(config, [photos], sys.argv[1], batch_size=2, workers=1, max_steps=1, device="cpu",
                           progress=False)
    print(result["step"], cv2.getNumThreads())
""")


def test_a_training_whose_process_ran_opencv_threads_reaches_its_first_step(tmp_path):
    try:
        done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                              timeout=90)
    except subprocess.TimeoutExpired:
        raise AssertionError("the loader's worker hung (forked while OpenCV's thread pool was up)") from None
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["1", "2"]  # one step, and the parent keeps its OpenCV threads
