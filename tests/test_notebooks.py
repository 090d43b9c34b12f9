"Every chapter notebook runs under the quick profile, through `lvd course`, and reports its numbers."
import json
import pytest
from lvd.course import find_chapters
from conftest import SPRITES_SKIP, skip_without_sprites

CHAPTERS = [p.stem for p in find_chapters()]

def test_course_command_succeeds(quick_course):
    assert quick_course["returncode"] == 0, quick_course["log"][-3000:]
    assert (quick_course["out"] / "results.md").exists()

def test_quick_course_is_quick(quick_course):
    total = sum(r["wall_s"] for r in quick_course["rows"].values())
    assert total < 300, f"the quick profile should run in under 300 s on 2 cores, took {total:.0f} s"

@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_is_quick_as_its_run_time_line_says(quick_course, chapter):
    skip_without_sprites(chapter)
    assert quick_course["rows"][chapter]["wall_s"] < 60, f"{chapter}'s run-time line says 'under a minute under quick'"

@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs(quick_course, chapter):
    skip_without_sprites(chapter)
    row = quick_course["rows"].get(chapter)
    assert row is not None, f"{chapter} was not run"
    assert row["status"] == "ok", row["error"]
    executed = json.loads((quick_course["out"] / f"{chapter}.ipynb").read_text())
    assert any(c.get("outputs") for c in executed["cells"] if c["cell_type"] == "code")

@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c[:2] != "00" or c == "00_core"])
def test_chapter_writes_results(quick_course, chapter):
    skip_without_sprites(chapter)
    rec = json.loads((quick_course["out"] / f"{chapter}.json").read_text())
    assert rec["chapter"] == chapter and rec["profile"] == "quick"
    assert rec["metrics"], f"{chapter} wrote no metrics"

def test_nothing_written_into_nbs(root):
    stray = [p.name for p in (root / "nbs").iterdir() if p.suffix not in (".ipynb",) and not p.name.startswith(".")]
    assert stray == [], f"chapters must write into out_dir, not nbs/: {stray}"

# Quick-profile metrics that a correct implementation meets by a wide margin whatever the seed (exact linear algebra,
# a deterministic scene), and a broken one does not. Measured values under `quick` (2026-12-02) in the comments.
QUICK_BOUNDS = {
    "00_core": {"line_slope_error": (0.0, 0.05)},                                           # 0.0030
    "00c_metrics": {"black_ssim_blob": (0.90, 0.94), "shifted_psnr_blob": (20.0, 30.0)},     # 0.919, 25.2: fixed scenes
    "00d_video_models": {"constant velocity: PSNR": (99.9, 100.0),                          # exact: the hand-written model
                         "constant velocity: SSIM": (0.999, 1.0), "copy last: PSNR": (10.0, 20.0)},   # 13.3
    "05_dmd": {"linear system: max eigenvalue error": (0.0, 1e-9),                           # 7.8e-16
               "balls: DMD 1-step MSE": (0.0, 0.1 * 0.0241)},                                 # 0.0018, black 0.024
    "09_hamiltonian_operators": {f"{system}: {prop}": (0.0, 1e-9)                            # <= 1.4e-11
                                 for system in ("spring", "saddle", "random H, d=4", "random skew-H, d=4")
                                 for prop in ("energy drift", "symplecticity error", "reversibility error")},
    "11_benchmark": {"balls: all black: MSE": (0.02, 0.03), "balls: copy last: MSE": (0.03, 0.045),  # 0.024, 0.038: the data
                     "balls: DMD: MSE": (0.0, 0.25 * 0.024),                                          # 0.0021: closed form, no training
                     "mnist: all black: MSE": (0.012, 0.02), "mnist: copy last: MSE": (0.02, 0.035),  # 0.016, 0.027
                     **({} if SPRITES_SKIP else {"sprites: all black: MSE": (0.03, 0.055),            # 0.042, 0.0089
                                                 "sprites: copy last: MSE": (0.005, 0.013)})},
}

@pytest.mark.parametrize("chapter", sorted(QUICK_BOUNDS))
def test_quick_metrics_within_measured_bounds(quick_course, chapter):
    metrics = quick_course["rows"][chapter]["metrics"]
    for name, (lo, hi) in QUICK_BOUNDS[chapter].items():
        assert name in metrics, f"{chapter} no longer reports {name!r}"
        assert lo <= metrics[name] <= hi, f"{chapter}: {name} = {metrics[name]:.4g}, outside [{lo}, {hi}]"
