"""The look benchmark's two metrics (bench/swap_look.py) on synthetic images: seam ratio and CIEDE2000 skin colour."""

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import swap_look  # noqa: E402

from gallery import skin_tone  # noqa: E402


def _portrait(size: int = 200, seed: int = 0) -> np.ndarray:
    """A textured 'portrait': smooth shading plus mild noise, so every band has some gradient."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    base = 110 + 40 * np.sin(x / 23.0) * np.cos(y / 31.0)
    noise = cv2.GaussianBlur(rng.normal(0, 6, (size, size)).astype(np.float32), (0, 0), 1.0)
    grey = np.clip(base + noise, 0, 255)
    return np.stack([grey * 1.1, grey, grey * 0.85], axis=-1).clip(0, 255).astype(np.uint8)


def test_identical_images_have_no_seam() -> None:
    p = _portrait()
    assert swap_look.seam_ratio(p, p.copy()) is None


def test_hard_edged_paste_is_a_seam() -> None:
    p = _portrait()
    r = p.copy()
    r[60:140, 60:140] = (200, 150, 120)  # a flat patch pasted with a hard edge
    seam = swap_look.seam_ratio(r, p)
    assert seam is not None
    assert seam.ratio > 3.0
    # The region found is the pasted square, and the band is about 3 px along its 320 px outline.
    assert seam.changed_px == pytest.approx(80 * 80, rel=0.02)
    assert 3 * 300 < seam.band_px < 3 * 340


def test_smooth_alpha_blend_has_no_seam() -> None:
    p = _portrait()
    other = _portrait(seed=1)[:, ::-1]  # a different face: its own texture and shading
    other = np.clip(other.astype(np.float32) * 1.15 + 8, 0, 255)
    alpha = np.zeros(p.shape[:2], np.float32)
    cv2.circle(alpha, (100, 100), 45, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 12.0)[..., None]  # feathered over ~30 px
    r = np.round(p * (1 - alpha) + other * alpha).astype(np.uint8)
    seam = swap_look.seam_ratio(r, p)
    assert seam is not None
    assert seam.ratio == pytest.approx(1.0, abs=0.05)


def test_flat_portrait_band_does_not_blow_up() -> None:
    p = np.full((120, 120, 3), 128, np.uint8)
    r = p.copy()
    r[40:80, 40:80] = 131  # just over the tolerance, flat on flat
    seam = swap_look.seam_ratio(r, p)
    assert seam is not None
    # Gradient only from the 3-level step, against EPS on a flat portrait: finite and modest.
    assert np.isfinite(seam.ratio)
    assert 1.0 < seam.ratio < 10.0


def test_band_is_three_pixels_across_the_edge() -> None:
    region = np.zeros((20, 20), bool)
    region[5:15, 5:15] = True
    band = swap_look.seam_band(region)
    row = band[10]
    # One pixel outside (4), the outermost changed pixel (5), one inside (6); likewise on the right.
    assert list(np.flatnonzero(row)) == [4, 5, 6, 13, 14, 15]


def test_ciede2000_of_identical_colours_is_zero() -> None:
    assert swap_look.ciede2000([62.0, 14.0, 18.0], [62.0, 14.0, 18.0]) == 0.0


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [
        # Sharma, Wu and Dalal (2005), "The CIEDE2000 color-difference formula", Table 1, pairs 1, 7 and 17.
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ],
)
def test_ciede2000_matches_sharma(lab1: tuple, lab2: tuple, expected: float) -> None:
    assert swap_look.ciede2000(lab1, lab2) == pytest.approx(expected, abs=5e-5)


def test_skin_colour_on_cheeks_and_forehead() -> None:
    skin = skin_tone.lab_to_srgb((62.0, 14.0, 18.0))
    p = np.zeros((300, 300, 3), np.uint8)
    p[:] = skin
    box = (75.0, 60.0, 225.0, 260.0)
    sample = swap_look.skin_sample(p, box)
    patches = skin_tone.skin_patches((300, 300), box)
    assert sample.sum() == sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in patches)
    assert swap_look.ciede2000(swap_look.mean_lab(p, sample), swap_look.mean_lab(p.copy(), sample)) == 0.0
    # Recolour the sampled patches only: the difference is that of the two colours.
    r = p.copy()
    other = skin_tone.lab_to_srgb((55.0, 16.0, 22.0))
    r[sample] = other
    expected = swap_look.ciede2000(
        skin_tone.srgb_to_lab(np.array(skin, np.uint8)), skin_tone.srgb_to_lab(np.array(other, np.uint8))
    )
    got = swap_look.ciede2000(swap_look.mean_lab(r, sample), swap_look.mean_lab(p, sample))
    assert got == pytest.approx(expected, abs=1e-6)
    assert got > 5.0
    # Hair across the forehead in the portrait: those pixels are left out of both means.
    p[60:90, :] = (40, 30, 25)
    assert swap_look.skin_sample(p, box).sum() < sample.sum()
