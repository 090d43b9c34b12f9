"Unit tests of lvd.core: profiles, checks, the training loop and checkpoints."
import pytest, torch
from torch import nn
from lvd.core import (by_profile, check_frames, check_times, check_shape, fit, NonFiniteLossError,
                      resolve_profile, save_checkpoint, load_checkpoint, set_seed, write_results)

def test_profiles():
    assert resolve_profile("cpu") == "cpu"
    with pytest.raises(ValueError, match="got 'gpu'"): resolve_profile("gpu")
    with pytest.raises(ValueError, match="missing \\['full'\\]"): by_profile("cpu", quick={}, cpu={})

@pytest.mark.parametrize("frames, message", [
    (torch.zeros(8, 64, 64), r"expected frames of shape \(B, T, C, H, W\), got \(8, 64, 64\)"),
    (torch.full((1, 2, 1, 4, 4), float("nan")), "expected finite values in frames"),
    (torch.full((1, 2, 1, 4, 4), -0.5), r"values in \[0, 1\]"),
])
def test_check_frames_rejects(frames, message):
    with pytest.raises(ValueError, match=message): check_frames(frames)

@pytest.mark.parametrize("t, message", [
    ([0.0, 1.0, 1.0], "strictly increasing"), ([[0.0, 1.0]], r"shape \(T\)"), ([0.0, float("inf")], "finite"),
])
def test_check_times_rejects(t, message):
    with pytest.raises(ValueError, match=message): check_times(t)

def test_check_shape_fixed_sizes():
    check_shape(torch.zeros(3, 2), ("B", 2))
    with pytest.raises(ValueError, match=r"expected z of shape \(B, 2\), got \(3, 4\)"): check_shape(torch.zeros(3, 4), ("B", 2), "z")

def test_fit_learns_and_stops_on_nan():
    set_seed(0)
    x = torch.linspace(-1, 1, 32)[:, None]; y = 2 * x + 0.5
    lin = nn.Linear(1, 1)
    hist = fit(lin, lambda s: ((lin(x) - y) ** 2).mean(), steps=200, lr=0.1)
    assert hist[-1] < 1e-3 * hist[0]
    with pytest.raises(NonFiniteLossError, match="at step 5 of 20"):
        fit(lin, lambda s: lin(x).sum() * (float("inf") if s == 5 else 1.0), steps=20)

def test_checkpoint_roundtrip(tmp_path):
    m = nn.Linear(3, 4)
    save_checkpoint(tmp_path / "m.pt", m, dict(in_features=3, out_features=4), note="x")
    m2, extra = load_checkpoint(tmp_path / "m.pt", nn.Linear)
    assert torch.equal(m.weight, m2.weight) and extra == {"note": "x"}
    with pytest.raises(TypeError): save_checkpoint(tmp_path / "bad.pt", m, dict(device=torch.device("cpu")))

def test_write_results(tmp_path):
    rec = write_results(tmp_path, "99_x", "quick", "cpu", {"mse": 0.5})
    assert (tmp_path / "99_x.json").exists() and rec["metrics"] == {"mse": 0.5}
    with pytest.raises(ValueError, match="finite numbers"): write_results(None, "x", "quick", "cpu", {"mse": "low"})

def test_fit_lr_scale_per_parameter_group():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    frozen, moving = model[0].weight.detach().clone(), model[1].weight.detach().clone()
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    fit(model, lambda step: ((model(x) - y) ** 2).mean(), steps=5, lr=1e-2, lr_scale={"0.": 0.0})
    assert torch.equal(model[0].weight, frozen)                      # scale 0: the first layer never moves
    assert not torch.equal(model[1].weight, moving)                  # scale 1: the second one does
    with pytest.raises(ValueError, match="lr_scale names no trainable parameter"):
        fit(model, lambda step: ((model(x) - y) ** 2).mean(), steps=1, lr_scale={"dynamics.": 10})

def test_write_results_paper_values_reach_the_results_table(tmp_path):
    from lvd.course import results_markdown
    rec = write_results(tmp_path, "99_demo", "cpu", "cpu", {"ssim": 0.93, "psnr": 26.0}, paper={"ssim": 0.982})
    row = dict(chapter="99_demo", profile="cpu", device="cpu", status="ok", wall_s=1.0, metrics=rec["metrics"],
               paper=rec["paper"])
    table = results_markdown([row])
    assert "`ssim` = 0.93 (paper: 0.982)" in table and "`psnr` = 26<br>" not in table and "`psnr` = 26 |" in table
    with pytest.raises(ValueError, match="not measured"): write_results(None, "x", "cpu", "cpu", {"ssim": 0.9}, paper={"mse": 0.1})
    with pytest.raises(ValueError, match="paper values"): write_results(None, "x", "cpu", "cpu", {"ssim": 0.9}, paper={"ssim": "high"})
