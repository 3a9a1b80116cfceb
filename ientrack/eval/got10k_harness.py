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
import io
import os
import warnings
from contextlib import contextmanager, redirect_stdout

from got10k.datasets import OTB
from got10k.experiments import ExperimentGOT10k, ExperimentOTB

from ientrack.data.errors import listing
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


def _keep_present(dataset) -> list:
    """Restrict the toolkit's dataset to the sequences whose folder exists; the names of the others."""
    keep = [i for i, d in enumerate(dataset.seq_dirs) if os.path.isdir(d)]
    absent = [name for i, name in enumerate(dataset.seq_names) if i not in keep]
    for field in ("anno_files", "seq_dirs", "seq_names"):
        setattr(dataset, field, [getattr(dataset, field)[i] for i in keep])
    return absent


def _toolkit_problem(dataset, index: int, scored: bool):
    """Why the toolkit would stop on sequence ``index`` of ``dataset`` (tracking it, or scoring it where
    ``scored``), or None: it reads each sequence as it goes, so a missing file would surface only after hours."""
    dataset.return_meta = scored
    try:
        item = dataset[index]
    except FileNotFoundError as error:
        return f"{os.path.basename(error.filename or '')} missing"
    except AssertionError:
        return "its frames (*.jpg) and its ground-truth rows differ in number; the toolkit needs one row per frame"
    except (OSError, ValueError, IndexError, KeyError) as error:
        return " ".join(f"{type(error).__name__}: {error}".split())
    finally:
        dataset.return_meta = False
    if scored and len(item) > 2 and "resolution" not in item[2]:
        return "meta_info.ini has no 'resolution' line"
    return None


def toolkit_dataset_name(dataset_name: str) -> str:
    """``dataset_name`` as the harness spells it (a key of :data:`OTB_VERSIONS` or :data:`GOT10K_SUBSETS`), or
    a one-line ``ValueError`` for a dataset the toolkit has no experiment for."""
    known = {name.lower(): name for name in list(OTB_VERSIONS) + list(GOT10K_SUBSETS)}
    if str(dataset_name).lower() not in known:
        raise ValueError(f"--harness got10k runs the GOT-10k toolkit's own experiments, which exist for "
                         f"{', '.join(known.values())}, not {dataset_name!r}; run it without --harness got10k "
                         "(ientrack's own runner takes every dataset)")
    return known[str(dataset_name).lower()]


def make_experiment(dataset_name: str, root, results_dir, report_dir):
    """The toolkit's experiment for ``dataset_name`` (see :func:`toolkit_dataset_name`) on the sequences present
    under ``root``, never downloading. Everything the toolkit will read is checked first: a missing file is one
    ``ValueError`` naming the sequences and files, before any tracking; absent sequences are one warning."""
    dataset_name = toolkit_dataset_name(dataset_name)
    if dataset_name in OTB_VERSIONS:
        if not os.path.isdir(root) or not os.listdir(root):
            raise FileNotFoundError(f"{dataset_name}: no OTB sequences under {root}")
        with _downloads_disabled(), redirect_stdout(io.StringIO()):  # its one line per absent sequence
            experiment = ExperimentOTB(str(root), OTB_VERSIONS[dataset_name], str(results_dir), str(report_dir))
    else:
        subset = GOT10K_SUBSETS[dataset_name]
        list_file = os.path.join(str(root), subset, "list.txt")
        if not os.path.isfile(list_file):
            raise FileNotFoundError(f"--harness got10k: the GOT-10k toolkit reads the sequences of {dataset_name} "
                                    f"from {list_file}, which does not exist (the root must hold {subset}/list.txt)")
        with redirect_stdout(io.StringIO()):
            experiment = ExperimentGOT10k(str(root), subset, str(results_dir), str(report_dir))
    dataset = experiment.dataset
    absent = _keep_present(dataset)
    if not dataset.seq_names:
        raise FileNotFoundError(f"--harness got10k: none of the sequences of {dataset_name} is under {root}")
    if absent:
        warnings.warn(f"{len(absent)} of {len(absent) + len(dataset.seq_names)} sequences of {dataset_name} are "
                      f"absent under {root}; the GOT-10k toolkit runs the {len(dataset.seq_names)} present: "
                      f"{listing(absent)}", stacklevel=2)
    scored = dataset_name == "GOT10k-val"
    problems = [f"{name} ({problem})" for i, name in enumerate(dataset.seq_names)
                if (problem := _toolkit_problem(dataset, i, scored))]
    if problems:
        raise ValueError(f"--harness got10k: the GOT-10k toolkit cannot use {len(problems)} of the sequences of "
                         f"{dataset_name} under {root}: {listing(problems)}")
    experiment.result_dir = os.path.join(str(results_dir), dataset_name)
    experiment.report_dir = os.path.join(str(report_dir), dataset_name)
    return experiment


def run_got10k_harness(tracker, dataset_name: str, root, results_dir, report_dir, visualize: bool = False):
    """Run and score ``tracker`` (a Tracker or any spec of :mod:`ientrack.eval.tracker_spec`) with the
    toolkit's own experiment; returns the toolkit's performance dict (``None`` for GOT-10k test, whose
    ground truth is withheld: the toolkit packs a submission instead)."""
    experiment = make_experiment(dataset_name, root, results_dir, report_dir)
    tracker = make_tracker(tracker)
    experiment.run(tracker, visualize=visualize)
    return experiment.report([tracker.name])
