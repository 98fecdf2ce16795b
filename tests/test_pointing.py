"""The pointing game's rules on hand-made boxes and maps (the toy models' scores are in test_toy_models.py)."""
import pytest
import torch

from coursekit.pointing import box_cells, chance_rate, pointing_hits


def test_a_box_covers_every_cell_it_overlaps_by_a_pixel():
    # A 64-pixel picture in a 4 x 4 grid: cells of 16 pixels. x from 15 to 17 (exclusive) touches columns 0 and 1;
    # y from 16 to 32 (exclusive) is exactly row 1.
    cells = box_cells(torch.tensor([[15, 16, 17, 32]]), grid=4, image_size=64)[0]
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[1, 0:2] = True
    assert torch.equal(cells, expected)


def test_a_box_ending_on_a_cell_border_does_not_cover_the_next_cell():
    cells = box_cells(torch.tensor([[0, 0, 16, 16], [16, 48, 64, 64]]), grid=4, image_size=64)
    assert cells[0].nonzero().tolist() == [[0, 0]]
    assert cells[1].nonzero().tolist() == [[3, 1], [3, 2], [3, 3]]


def test_the_grid_must_divide_the_picture():
    with pytest.raises(ValueError, match="equal cells"):
        box_cells(torch.tensor([[0, 0, 1, 1]]), grid=7, image_size=64)


def test_a_map_hits_when_its_largest_cell_is_in_the_box():
    boxes = torch.tensor([[15, 16, 17, 32]] * 3)                 # cells (1, 0) and (1, 1) of a 4 x 4 grid
    maps = torch.zeros(3, 4, 4)
    maps[0, 1, 1] = 1.0                                          # in the box
    maps[1, 2, 1] = 1.0                                          # the cell below it
    maps[2] = -torch.arange(16.0).view(4, 4)                     # largest at (0, 0): outside, though not flat
    assert pointing_hits(maps, boxes, image_size=64).tolist() == [True, False, False]


def test_a_constant_map_misses_even_where_argmax_would_land_in_the_box():
    boxes = torch.tensor([[0, 0, 64, 64]])                       # the whole picture: any real maximum hits
    assert pointing_hits(torch.zeros(1, 8, 8), boxes).tolist() == [False]
    assert pointing_hits(torch.rand(1, 8, 8), boxes).tolist() == [True]


def test_chance_is_the_mean_fraction_of_cells_a_box_covers():
    boxes = torch.tensor([[0, 0, 16, 16], [15, 16, 17, 32]])     # 1 and 2 of 16 cells
    assert chance_rate(boxes, grid=4, image_size=64) == pytest.approx((1 / 16 + 2 / 16) / 2)


def test_a_random_map_scores_chance():
    boxes = torch.tensor([[8, 8, 17, 32]] * 20000)               # 2 x 3 of the 64 cells of 8 pixels
    maps = torch.rand(20000, 8, 8, generator=torch.Generator().manual_seed(0))
    assert pointing_hits(maps, boxes).float().mean().item() == pytest.approx(6 / 64, abs=0.01)
    assert chance_rate(boxes[:1], grid=8) == pytest.approx(6 / 64)
