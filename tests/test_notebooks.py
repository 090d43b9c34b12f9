"Every chapter notebook runs under the quick profile, through `lvd course`, and reports its numbers."
import json
import pytest
from lvd.course import find_chapters
from conftest import SPRITES_SKIP, skip_without_sprites

CHAPTERS = [p.stem for p in find_chapters()]

def test_course_command_succeeds(quick_course):
    assert quick_course["returncode"] == 0, quick_course["log"][-3000:]
    assert (quick_course["out"] / "results.md").exists()

def _slowdown(quick_course) -> float:
    "How much slower than the reference machine this one was, by the benchmark `lvd course` ran before the chapters."
    from lvd.course import slowdown
    bench = {r["benchmark_s"] for r in quick_course["rows"].values()}
    assert len(bench) == 1, f"every row of one run carries the same benchmark, got {bench}"
    return slowdown(bench.pop())

def test_quick_course_is_quick(quick_course):
    "Under 300 s on 2 cores of the reference machine; a slower machine (by `machine_benchmark`) gets proportionally more."
    total, k = sum(r["wall_s"] for r in quick_course["rows"].values()), _slowdown(quick_course)
    assert total < 300 * k, f"the quick profile should run in under 300 s x {k:.2f} (this machine's slowdown), took {total:.0f} s"

@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_is_quick_as_its_run_time_line_says(quick_course, chapter):
    skip_without_sprites(chapter)
    k = _slowdown(quick_course)
    assert quick_course["rows"][chapter]["wall_s"] < 60 * k, \
        f"{chapter}'s run-time line says 'about a minute or less under quick' (60 s x {k:.2f}, this machine's slowdown)"

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

def test_a_second_quick_run_writes_the_same_metrics(quick_course, tmp_path):
    "Two runs of the same chapters give byte-identical metric sections (the wall times are kept apart, in `timings`)."
    import os, subprocess, torch
    if torch.cuda.is_available(): pytest.skip("GPU kernels (cuDNN backward) are not deterministic; this checks the CPU run")
    from conftest import ROOT
    env = dict(os.environ, LVD_THREADS=os.environ.get("LVD_THREADS", "2"))
    proc = subprocess.run(["lvd", "course", "--profile", "quick", "--only", "02", "06", "--out", str(tmp_path)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for chapter in ("02_autoencoders", "06_koopman_ae"):
        again = json.loads((tmp_path / f"{chapter}.json").read_text())["metrics"]
        first = json.loads((quick_course["out"] / f"{chapter}.json").read_text())["metrics"]
        assert json.dumps(again) == json.dumps(first), chapter

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

# Trained models under `quick`: each check compares the model with a baseline of the same run (or a property the chapter
# states), with the range measured over five training seeds (`lvd course --profile quick --seed N`, N = 0..4, on
# 2026-12-02; data, judges and texture features fixed) and the bound set with a margin beyond the worst seed. Quick models
# are small: several chapters' quick models do not beat the black frame, so their checks catch gross breakage only.
QUICK_TRAINED = [
    # chapter, what is checked, check(metrics) -> bool, measured over seeds 0-4
    ("01_neural_odes", "the ODE extrapolates the spiral: relative test MSE < 0.4",
     lambda r: r["spiral_test_rel"] < 0.4, "0.049-0.153"),
    ("01_neural_odes", "the ODE beats the MLP of time beyond the training window by 2x",
     lambda r: r["spiral_test_rel"] < 0.5 * r["mlp_spiral_test_rel"], "ratio 0.04-0.17"),
    ("01_neural_odes", "the 4-d ODE on held-out trajectories: relative MSE beyond the window < 0.85 (the mean: 1)",
     lambda r: r["multi_heldout_test_window_rel"] < 0.85, "0.30-0.54"),
    ("02_autoencoders", "the sigmoid autoencoder without encoding collapses to the black frame (within 1%)",
     lambda r: abs(r["collapse_sigmoid_mse"] / r["black_mse"] - 1) < 0.01, "0.01601-0.01602 vs 0.01601"),
    ("02_autoencoders", "the d = 2 autoencoder reconstructs better than the black frame",
     lambda r: r["d2_noreg_mse"] < 0.97 * r["black_mse"], "ratio 0.903-0.938"),
    ("02_autoencoders", "the d = 8 code holds the ball's position: R^2 > 0.45",
     lambda r: r["d8_noreg_r2"] > 0.45, "0.68-0.80"),
    ("03_latent_ode", "the latent ODE beats copy-last on its training horizon",
     lambda r: r["ode_mse_train_horizon"] < 0.6 * r["copy_mse_train_horizon"], "ratio 0.46-0.49"),
    ("03_latent_ode", "the latent ODE beats the black frame on its training horizon",
     lambda r: r["ode_mse_train_horizon"] < 0.99 * r["black_mse_train_horizon"], "ratio 0.91-0.97"),
    ("03_latent_ode", "and beyond it, in PSNR, by 0.2 dB",
     lambda r: r["ode_psnr_extrapolated"] > r["black_psnr_extrapolated"] + 0.2, "+0.43 to +0.87 dB"),
    ("04_disentangled_ode", "2 -> 18 PSNR above 12.5 dB (noise or grey: 5-8 dB; the quick model is below black, 16.98, "
     "so a black output passes: gross breakage only)",
     lambda r: r["d1_2to18_psnr"] > 12.5, "13.45-14.62"),
    ("04_disentangled_ode", "forecast at half steps scores like the whole steps (one continuous path): within 0.6 dB",
     lambda r: abs(r["halfstep_psnr"] - r["d1_2to18_psnr"]) < 0.6, "-0.22 to -0.25 dB"),
    ("06_koopman_ae", "the Koopman AE (blocks) beats the black frame over 20 steps by 20%",
     lambda r: r["KAE blocks: 20-step MSE"] < 0.8 * r["all-black MSE"], "ratio 0.43-0.64"),
    ("06_koopman_ae", "so does the dense K",
     lambda r: r["KAE dense K: 20-step MSE"] < 0.8 * r["all-black MSE"], "ratio 0.41-0.61"),
    ("07_dynamic_vae", "the digit judge (seed fixed) is accurate on held-out digits",
     lambda r: r["judge accuracy (held-out digits 0-4)"] > 0.85, "0.93"),
    ("07_dynamic_vae", "the Dynamic VAE's digits are closer to real ones than VAE + VAR's (Frechet distance)",
     lambda r: r["digits Fréchet (judge features): Dynamic VAE"] < 0.95 * r["digits Fréchet (judge features): VAE + VAR"], "ratio 0.48-0.88"),
    ("07_dynamic_vae", "the DVAE's transition A is stable and not trivial: largest |eigenvalue| in [0.6, 0.85]",
     lambda r: 0.6 <= r["DVAE digits: largest |eigenvalue| of A"] <= 0.85, "0.717-0.737"),
    ("08_sprites", "the action judge is far above chance (1/9) on test characters",
     lambda r: r["action judge: test accuracy"] > 0.6, "0.74-0.94"),
    ("10_hamiltonian_vae", "image-to-sequence PSNR above 14.3 dB for both families (the black frame scores about 13.8 dB "
     "on Sprites test clips, chapter 11's quick run; the quick model is below it in SSIM)",
     lambda r: min(r["H: image-to-sequence PSNR"], r["skew-H: image-to-sequence PSNR"]) > 14.3, "14.86-16.27"),
]

@pytest.mark.parametrize("chapter, what, check, measured", QUICK_TRAINED, ids=[f"{c[:2]}: {w[:40]}" for c, w, *_ in QUICK_TRAINED])
def test_quick_trained_metrics_pass_their_measured_checks(quick_course, chapter, what, check, measured):
    skip_without_sprites(chapter)
    metrics = quick_course["rows"][chapter]["metrics"]
    try: ok = check(metrics)
    except KeyError as e: pytest.fail(f"{chapter} no longer reports {e}")
    assert ok, f"{chapter}: {what} fails (measured over seeds 0-4: {measured}); metrics: {metrics}"

