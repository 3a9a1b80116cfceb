"""Tracker configs by difference: every SiamFC search setting has one documented default
(ientrack/trackers/settings.py), and each shipped config writes only what differs from its type's."""
import ast
import json
import warnings
from pathlib import Path

import pytest

from ientrack.eval.provenance import StaleResultsError, check_provenance, tracker_provenance
from ientrack.eval.tracker_spec import TrackerSpec
from ientrack.trackers import settings
from ientrack.trackers.registry import (available_trackers, build_tracker, load_config, type_defaults,
                                        with_defaults, zoo_dir)
from ientrack.trackers.settings import SearchSettings, setting_names

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = available_trackers() + sorted(str(p) for p in (ROOT / "configs" / "ablations").glob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS)
def test_a_config_writes_only_what_differs_from_its_type(config):
    cfg = load_config(config)
    defaults = type_defaults(cfg["type"])
    repeated = sorted(k for k, v in cfg.items() if k in defaults and defaults[k] == v)
    assert repeated == [], f"{config} repeats its type's defaults: {repeated}"


def test_every_search_setting_has_one_default_with_a_comment():
    source = Path(settings.__file__).read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SearchSettings")
    fields = [n for n in cls.body if isinstance(n, ast.AnnAssign)]
    assert [f.target.id for f in fields] == list(setting_names()) and len(fields) >= 14
    for field in fields:
        assert "#" in lines[field.lineno - 1], f"{field.target.id} has no comment"
    # and no other module of the package spells a search default as a keyword default
    for path in (ROOT / "ientrack" / "trackers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                with_default = a.args[len(a.args) - len(a.defaults):] + [
                    k for k, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
                assert not {arg.arg for arg in with_default} & set(setting_names()), (path, node.name)


def test_the_types_change_only_what_they_say():
    siamfc, effnet, canon = (type_defaults(t) for t in ("siamfc", "effnet_siamfc", "siamfc_canonicalized"))
    assert {k: v for k, v in siamfc.items() if k in setting_names()} == vars(SearchSettings())
    assert {k for k in setting_names() if effnet[k] != siamfc[k]} == {"exemplar_size", "instance_size", "scale_search"}
    assert (effnet["exemplar_size"], effnet["instance_size"], effnet["backbone"], effnet["scale_search"]) == (
        129, 257, "effnet_lite0_s8", "templates")
    assert "num_rotations" not in canon and canon["angle_window"] == 0.0  # the bank follows the canonicalizer's group


def test_the_old_type_name_still_loads_under_its_new_name(tmp_path):
    old = tmp_path / "mine.yaml"
    old.write_text("type: siamfc_pretrained\nangle_window: 30.0\n")
    with pytest.warns(UserWarning, match="'siamfc_pretrained' is now called 'effnet_siamfc'"):
        assert load_config(str(old))["type"] == "effnet_siamfc"


@pytest.mark.parametrize("setting, message", [
    ({"template_angles": [0, 90]}, "unknown setting"),
    ({"rotation_search": "best"}, "rotation_search must be joint or at_peak"),
])
def test_settings_that_are_not_are_refused_by_name(setting, message):
    with pytest.raises(ValueError, match=message):
        build_tracker("siamfc", device="cpu", **setting)


def test_canon_refuses_a_bank_size_of_its_own():
    with pytest.raises(ValueError, match="num_rotations"):
        build_tracker("canon_siamfc", device="cpu", num_rotations=8)


def test_results_recorded_before_the_defaults_were_recorded_are_still_reused(tmp_path):
    """A results folder's tracker.json of before (the config's own keys only) matches the same setup now;
    one whose setting differs from today's default is still refused."""
    spec = TrackerSpec("ien_siamfc", {"device": "cpu"})
    now = tracker_provenance(spec)
    assert now["context"] == 0.5 and now["angle_window"] == 45.0  # every setting recorded
    old = {k: now[k] for k in ("name", "type", "weights", "num_rotations", "angle_window", "angle_lr",
                               "rotation_search", "angle_interpolation", "context", "backbone")}
    (tmp_path / "tracker.json").write_text(json.dumps(old))
    (tmp_path / "seq.txt").write_text("1,2,3,4\n")  # a result beside the record: the record is checked
    check_provenance(tmp_path, now, overwrite=False)
    (tmp_path / "tracker.json").write_text(json.dumps(dict(old, context=0.6)))
    with pytest.raises(StaleResultsError, match=r"\(context changed"):
        check_provenance(tmp_path, now, overwrite=False)


def test_with_defaults_is_what_the_tracker_runs_with():
    tracker = build_tracker("re_siamfc", device="cpu")
    full = with_defaults(load_config("re_siamfc"))
    assert vars(tracker.settings) == {k: full[k] for k in setting_names()}
    assert zoo_dir() == ROOT / "ientrack" / "zoo"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(load_config(name) for name in available_trackers())  # no shipped config uses an old name
