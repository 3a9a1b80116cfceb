"""What made a results folder: the tracker's settings and the digests of its weight files, kept as
``tracker.json`` beside the results, so that a rerun with other weights or settings cannot silently
reuse (and then score) results of the old ones."""
import hashlib
import json
from pathlib import Path
from typing import Optional

from ientrack.atomic import write_text_atomic
from ientrack.eval.tracker_spec import TrackerSpec
from ientrack.trackers.registry import RENAMED_TYPES, TRACKER_TYPES, load_config, type_defaults, with_defaults

PROVENANCE = "tracker.json"
# settings that do not change what a tracker outputs (or only how it is trained)
NOT_OUTPUT = ("device", "train", "train_command")


class StaleResultsError(ValueError):
    """The results folder holds results of another setup of the tracker."""


def file_digest(path) -> Optional[str]:
    """sha256 of a file's bytes, or None when it does not exist."""
    path = Path(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def tracker_provenance(spec) -> Optional[dict]:
    """A zoo spec's settings (config with its type's defaults and the overrides) with each weights file as
    its digest; None for factories and tracker instances, whose settings are not known."""
    if not isinstance(spec, TrackerSpec):
        return None
    settings = with_defaults(load_config(spec.name))
    settings.update({k: v for k, v in spec.overrides.items() if v is not None})
    return _as_recorded(settings)


def _as_recorded(settings: dict) -> dict:
    settings = dict(settings)
    for key in NOT_OUTPUT:
        settings.pop(key, None)
    for key in [k for k in settings if k == "weights" or k.endswith("_weights")]:
        settings[key] = {"sha256": file_digest(settings[key])} if settings[key] else None
    return json.loads(json.dumps(settings, default=str))


def _with_defaults_of_its_type(record: dict) -> dict:
    """A record written before records held every setting: the settings it left out at their default."""
    record = dict(record, type=RENAMED_TYPES.get(record.get("type"), record.get("type")))
    return {**_as_recorded(type_defaults(record["type"])), **record} if record["type"] in TRACKER_TYPES else record


def check_and_record(tdir, provenance: Optional[dict], overwrite: bool) -> None:
    """Raise :class:`StaleResultsError` when ``tdir`` holds results of other settings (unless
    ``overwrite``); then record ``provenance`` there. A folder without a record is taken as it is."""
    if provenance is None:
        return
    record = Path(tdir) / PROVENANCE
    if record.is_file() and not overwrite:
        old = _with_defaults_of_its_type(json.loads(record.read_text()))
        changed = sorted(k for k in set(old) | set(provenance) if old.get(k) != provenance.get(k))
        if changed:
            raise StaleResultsError(
                f"{tdir} holds results of {provenance.get('name')} with other settings ({', '.join(changed)} "
                f"changed, see {record}); rerun with --overwrite, or give another --results-dir")
    write_text_atomic(record, json.dumps(provenance, indent=1, sort_keys=True) + "\n")
