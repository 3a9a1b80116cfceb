"""One name per dataset: whatever spelling asks for it, the loaded dataset, its report folder and its
column in the results page carry the same canonical name (Rot2-X and Rot-X are one dataset, Rot-X)."""
import pytest

from ientrack.data.registry import canonical_name, load_dataset
from ientrack.data.rot import DEFAULT_OMEGA
from ientrack.eval.compare import compare


@pytest.mark.parametrize("spelling, name", [
    ("{json}", "Small"), ("json:{json}", "Small"), ("Rot-{json}", "Rot-Small"), ("Rot2-{json}", "Rot-Small"),
    ("rot2.0-{json}", "Rot-Small"), ("Rot4.0-{json}", "Rot4-Small"), ("Rot2.5-{json}", "Rot2.5-Small"),
])
def test_every_spelling_loads_under_its_canonical_name(small_benchmark, spelling, name):
    tmp_path, json_path = small_benchmark
    request = spelling.format(json=json_path)
    assert canonical_name(request) == name
    assert load_dataset(request, tmp_path / "frames").name == name


def test_canonical_names_of_the_registry():
    assert DEFAULT_OMEGA == 2.0
    assert canonical_name("otb2015") == "OTB2015" and canonical_name("Rot2-otb100") == "Rot-OTB100"
    assert canonical_name("rot4-got10k-val") == "Rot4-GOT10k-val" and canonical_name("Rot-vot2018") == "Rot-VOT2018"


def test_the_results_page_column_is_the_report_folder(small_benchmark):
    """A Rot2- request used to be reported under Rot-<name> while the page's column said Rot2-<name>."""
    tmp_path, json_path = small_benchmark
    tables = compare(["opencv_mil"], [f"Rot2-{json_path}"], {str(json_path): str(tmp_path / "frames")},
                     results_dir=str(tmp_path / "results"), report_dir=str(tmp_path / "reports"), progress=False)
    folders = sorted(p.name for p in (tmp_path / "reports").iterdir() if p.is_dir())
    assert list(tables) == folders == ["Rot-Small"]
