"""The network-free readers (``fashion_gan.evaluation.appearance``) on real synthetic people."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fashion_gan.data.synthetic import COLOR_RGB, SyntheticMannequins
from fashion_gan.evaluation.appearance import (
    garment_colour_hits,
    identity_scores,
    print_scores,
    region_mean_lab,
    solid_palette_lab,
)
from fashion_gan.evaluation.judges import MULTICOLOR, detector_heads, targets_of


@pytest.fixture(scope="module")
def people():
    data = SyntheticMannequins(split="test", image_size=32, num_train=16, num_test=96, seed=0)
    return data.get_batch(list(range(96)))


def test_a_person_against_themself_scores_perfectly(people):
    scores = identity_scores(
        people["image"], people["labels"].long(), people["image"], people["labels"].long()
    )
    assert torch.equal(scores["hair_face_iou"], torch.ones(96))
    assert torch.equal(scores["background_iou"], torch.ones(96))
    for name in ("hair_delta_e", "face_delta_e"):
        values = scores[name][~scores[name].isnan()]
        assert len(values) > 40 and (values == 0).all()


def test_another_person_scores_far_off(people):
    other = {k: v.roll(1, 0) for k, v in people.items() if isinstance(v, torch.Tensor)}
    scores = identity_scores(other["image"], other["labels"].long(), people["image"], people["labels"].long())
    assert scores["hair_face_iou"].mean() < 0.6
    assert scores["face_delta_e"].nanmean() > 5 and scores["hair_delta_e"].nanmean() > 5


def test_real_garments_show_their_own_solid_colour(people):
    solid = people["color"] != MULTICOLOR
    hits = garment_colour_hits(
        people["image"], people["labels"].long(), people["color"], solid_palette_lab(COLOR_RGB)
    )
    assert hits[solid].nanmean() > 0.9
    wrong = garment_colour_hits(
        people["image"], people["labels"].long(), (people["color"] + 1) % 16, solid_palette_lab(COLOR_RGB)
    )
    assert wrong[solid].nanmean() < 0.2


def test_prints_have_sharper_colour_edges_than_solid_garments(people):
    score = print_scores(people["image"], people["labels"].long())
    multi = people["color"] == MULTICOLOR
    assert multi.any() and np.nanmedian(score[multi]) > 4 * np.nanmedian(score[~multi])


def test_a_blurred_print_is_no_print(people):
    """Colours that merely drift across the garment (a print blurred away) score like a solid garment."""
    import kornia

    multi = people["color"] == MULTICOLOR
    images = people["image"][multi].float() / 255
    blurred = (kornia.filters.gaussian_blur2d(images, (9, 9), (3.0, 3.0)) * 255).round().to(torch.uint8)
    labels = people["labels"][multi].long()
    sharp, soft = print_scores(people["image"][multi], labels), print_scores(blurred, labels)
    solid = print_scores(people["image"][~multi], people["labels"][~multi].long())
    assert np.nanmedian(soft) < np.nanquantile(solid, 0.95) < np.nanmedian(sharp)


def test_empty_regions_are_nan_not_zero():
    lab = torch.zeros(2, 3, 4, 4)
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[0, :2] = True
    out = region_mean_lab(lab, mask)
    assert not out[0].isnan().any() and out[1].isnan().all()


def test_palette_keeps_multicolour_as_nan():
    lab = solid_palette_lab(COLOR_RGB)
    assert lab.shape == (17, 3) and lab[MULTICOLOR].isnan().all() and not lab[:MULTICOLOR].isnan().any()
    assert lab[2, 0] > 95 and lab[5, 0] < 10  # white is light, black is dark


def test_wearer_targets_come_from_the_synthetic_wearer_vector(people):
    targets = targets_of(people)
    assert set(targets) == {"category", "color", "sleeve", "gender", "long_hair", "hat", "sunglasses"}
    assert set(targets["hat"].unique().tolist()) <= {0, 1}
    unknown = {**people, "wearer": torch.full_like(people["wearer"], -1.0)}
    assert set(targets_of(unknown)) == {"category", "color", "sleeve", "gender"}  # the official release
    data = SyntheticMannequins(split="train", image_size=32, num_train=8, num_test=4, seed=0)
    assert detector_heads(data) == {
        "category": 19,
        "color": 17,
        "sleeve": 4,
        "gender": 2,
        "long_hair": 2,
        "hat": 2,
        "sunglasses": 2,
    }
