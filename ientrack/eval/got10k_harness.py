"""Run the GOT-10k toolkit's own experiments (``got10k`` on PyPI) on our trackers, offline.

Our :class:`~ientrack.trackers.base.Tracker` already speaks got10k's interface
(``track(img_files, box, visualize) -> (boxes, times)``, ``name``, ``is_deterministic``), so the toolkit
runs it unchanged. Two things are adapted: the toolkit's OTB dataset would download missing sequences,
so its ``_download`` is disabled while the experiment is built and the experiment covers only the
sequences present in ``root``; and results / reports go to ``<results_dir>/<dataset_name>/`` and
``<report_dir>/<dataset_name>/``, the same layout our runner writes, so both toolkits read each
other's files.

Known differences from our loaders (they do not change the metric code): the toolkit keeps all of
Tiger1's frames and names repeated sequences ``Jogging.1`` / ``Skating2.1``.
"""
import os
from contextlib import contextmanager

from got10k.datasets import OTB
from got10k.experiments import ExperimentGOT10k, ExperimentOTB

from ientrack.eval.tracker_spec import make_tracker

# our dataset names (as ``ientrack.data.registry.load_dataset`` names them) -> the toolkit's OTB versions
OTB_VERSIONS = {"OTB100": "tb100", "OTB2015": 2015, "OTB2013": 2013, "OTB50": "tb50"}
GOT10K_SUBSETS = {"GOT10k-val": "val", "GOT10k-test": "test"}


@contextmanager
def _downloads_disabled():
    """Make the toolkit's OTB ``_download`` a no-op (it would fetch every missing sequence)."""
    original = OTB.__dict__["_download"]
    OTB._download = lambda self, root_dir, version: None
    try:
        yield
    finally:
        OTB._download = original


def _keep_present_otb(dataset) -> None:
    """Restrict the toolkit's OTB dataset to sequences whose ``img`` folder exists."""
    keep = [i for i, d in enumerate(dataset.seq_dirs) if os.path.isdir(os.path.join(d, "img"))]
    dataset.anno_files = [dataset.anno_files[i] for i in keep]
    dataset.seq_dirs = [dataset.seq_dirs[i] for i in keep]
    dataset.seq_names = [dataset.seq_names[i] for i in keep]


def _keep_present_got10k(dataset) -> None:
    keep = [i for i, d in enumerate(dataset.seq_dirs) if os.path.isdir(d)]
    dataset.seq_names = [dataset.seq_names[i] for i in keep]
    dataset.seq_dirs = [dataset.seq_dirs[i] for i in keep]
    dataset.anno_files = [dataset.anno_files[i] for i in keep]


def make_experiment(dataset_name: str, root, results_dir, report_dir):
    """The toolkit's experiment for ``dataset_name`` (a key of :data:`OTB_VERSIONS` or
    :data:`GOT10K_SUBSETS`, any case) on the sequences present under ``root``, never downloading."""
    known = {name.lower(): name for name in list(OTB_VERSIONS) + list(GOT10K_SUBSETS)}
    dataset_name = known.get(str(dataset_name).lower(), dataset_name)
    if dataset_name in OTB_VERSIONS:
        if not os.path.isdir(root) or not os.listdir(root):
            raise FileNotFoundError(f"{dataset_name}: no OTB sequences under {root}")
        with _downloads_disabled():
            experiment = ExperimentOTB(str(root), OTB_VERSIONS[dataset_name], str(results_dir), str(report_dir))
        _keep_present_otb(experiment.dataset)
    elif dataset_name in GOT10K_SUBSETS:
        experiment = ExperimentGOT10k(str(root), GOT10K_SUBSETS[dataset_name], str(results_dir), str(report_dir))
        _keep_present_got10k(experiment.dataset)
    else:
        raise ValueError(f"the GOT-10k toolkit harness knows {sorted(OTB_VERSIONS) + sorted(GOT10K_SUBSETS)}, "
                         f"not {dataset_name!r}")
    experiment.result_dir = os.path.join(str(results_dir), dataset_name)
    experiment.report_dir = os.path.join(str(report_dir), dataset_name)
    return experiment


def run_got10k_harness(tracker, dataset_name: str, root, results_dir, report_dir, visualize: bool = False):
    """Run and score ``tracker`` (a Tracker or any spec of :mod:`ientrack.eval.tracker_spec`) with the
    toolkit's own experiment; returns the toolkit's performance dict (``None`` for GOT-10k test, whose
    ground truth is withheld: the toolkit packs a submission instead)."""
    tracker = make_tracker(tracker)
    experiment = make_experiment(dataset_name, root, results_dir, report_dir)
    experiment.run(tracker, visualize=visualize)
    return experiment.report([tracker.name])
