"""The mixture of pair sources: each source's share of an epoch, and real sequences' pairs (max_gap, NaN rows)."""
import numpy as np
import pytest

from conftest import shared_path
from ientrack.data.augment import Augmentation
from ientrack.data.mixture import mix, share_counts
from ientrack.data.pairs import SequencePairSource, TrainingPairs, View, pair_sources


class Counted:
    """A named source of ``size`` items that records which item each pair came from."""

    augmentation = Augmentation()

    def __init__(self, name, size):
        self.name, self.size, self.drawn = name, size, []

    def __len__(self):
        return self.size

    def views(self, index, rng):
        self.drawn.append(index)
        view = View(np.zeros((40, 40, 3), np.uint8), np.array([20.0, 20.0]), np.array([10.0, 10.0]))
        return view, view


def draw_epoch(sources, mixture, pairs_per_epoch, seed=0):
    pairs = TrainingPairs(mix(sources, mixture, pairs_per_epoch), exemplar_size=15, instance_size=31, seed=seed)
    for i in range(len(pairs)):
        pairs[i]
    return len(pairs)


def test_each_source_gives_its_share_of_the_epoch_from_items_drawn_over_all_of_it():
    sources = [Counted("real@train", 20), Counted("photos", 756), Counted("Builtin-train", 3)]
    assert draw_epoch(sources, {"real@train": 0.6, "photos": 0.3, "Builtin-train": 0.1}, 200) == 200
    assert [len(s.drawn) for s in sources] == [120, 60, 20]
    assert set(sources[2].drawn) == {0, 1, 2}  # 20 draws of 3 items: every one (a random order, not the first)
    assert len(set(sources[0].drawn)) >= 15 and max(sources[1].drawn) > 100  # spread over the whole source


def test_shares_hold_within_one_pair_at_any_epoch_size_and_a_zero_share_drops_a_source():
    for total in (7, 99, 1001):
        counts = share_counts([0.5, 0.25, 0.25], total)
        assert sum(counts) == total
        assert np.allclose(counts, np.array([0.5, 0.25, 0.25]) * total, atol=1)
    sources = [Counted("a", 5), Counted("b", 5)]
    draw_epoch(sources, {"a": 1, "b": 0}, 30)
    assert [len(s.drawn) for s in sources] == [30, 0]


def test_without_a_mixture_the_sources_are_unchanged_and_an_epoch_size_keeps_their_proportions():
    sources = [Counted("a", 30), Counted("b", 10)]
    assert mix(sources) == sources
    draw_epoch(sources, None, 8)
    assert [len(s.drawn) for s in sources] == [6, 2]


def test_a_mixture_that_does_not_name_the_training_data_is_refused():
    sources = [Counted("real@train", 5), Counted("photos", 5)]
    with pytest.raises(ValueError, match=r"\['photos', 'real@val'\] are not the training data's \['photos', 'real@train'\]"):
        mix(sources, {"real@val": 1, "photos": 1})
    with pytest.raises(ValueError, match="shares must be >= 0"):
        mix(sources, {"real@train": -1, "photos": 1})
    with pytest.raises(ValueError, match="two have one name"):
        mix([Counted("a", 1), Counted("a", 1)], {"a": 1})


def test_real_train_pairs_stay_within_max_gap_and_never_use_an_out_of_view_frame(monkeypatch):
    source, photos = pair_sources([str(shared_path("real")) + "@train"], [shared_path("photos", "coco128")],
                                  max_gap=5)
    assert (source.name, photos.name) == ("real@train", "coco128")
    gt = {seq.name: seq.gt for seq in source.sequences}
    assert sum(np.isnan(rows).any(axis=1).sum() for rows in gt.values()) > 0  # the data has out-of-view rows
    monkeypatch.setattr(SequencePairSource, "_view", staticmethod(lambda seq, f: (seq.name, f)))
    rng = np.random.default_rng(0)
    for index in range(2000):
        (name, i), (_, j) = source.views(index, rng)
        assert np.isfinite(gt[name][[i, j]]).all() and 0 < abs(i - j) <= 5
