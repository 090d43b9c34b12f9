"Unit tests of lvd.metrics: the convention (per frame, data range 1) and SSIM against scikit-image's independent implementation."
import math
import pytest, torch
from lvd.metrics import (frame_mse, frame_psnr, frame_ssim, sequence_scores, copy_last_baseline, black_baseline,
                         mse_per_step, MSE_FLOOR)

def frames(seed, shape=(4, 1, 48, 48)):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))

def test_ssim_matches_scikit_image():
    "Same SSIM as scikit-image's implementation once the frame is mirrored by half a window (our border convention)."
    skm = pytest.importorskip("skimage.metrics")
    truth = frames(0)
    noisy = (truth + 0.2 * frames(1) - 0.1).clamp(0, 1)
    blurred = torch.nn.functional.avg_pool2d(truth, 5, 1, 2)
    mirror = lambda x: torch.nn.functional.pad(x.double(), (5, 5, 5, 5), mode="reflect")[0, 0].numpy()
    for pred in (noisy, blurred, torch.zeros_like(truth), truth):
        ours = frame_ssim(pred, truth)
        for k in range(len(truth)):
            ref = skm.structural_similarity(mirror(pred[k:k + 1]), mirror(truth[k:k + 1]), data_range=1.0,
                                            gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
            assert abs(ours[k].item() - ref) < 1e-5, (ours[k].item(), ref)

def test_psnr_and_mse_by_hand():
    truth = frames(2, (2, 3, 1, 16, 16))
    pred = truth.clone(); pred[0, 1] += 0.05
    mse = frame_mse(pred, truth)
    assert mse.shape == (2, 3) and mse[0, 1].item() == pytest.approx(0.0025, rel=1e-4) and mse[1].abs().max() == 0
    psnr = frame_psnr(pred, truth)
    assert psnr[0, 1].item() == pytest.approx(-20 * math.log10(0.05), rel=1e-4)
    assert psnr[1, 0].item() == pytest.approx(10 * math.log10(1 / MSE_FLOOR))

def test_sequence_scores_average_per_frame_values():
    truth, pred = frames(3, (3, 4, 1, 16, 16)), frames(4, (3, 4, 1, 16, 16))
    s = sequence_scores(pred, truth)
    assert s["psnr"] == pytest.approx(frame_psnr(pred, truth).mean().item())
    assert s["ssim"] == pytest.approx(frame_ssim(pred, truth).mean().item())
    assert s["per_step"]["mse"].shape == (4,)
    assert torch.allclose(s["per_step"]["mse"], mse_per_step(pred, truth))

def test_psnr_is_averaged_per_frame_not_taken_of_the_mean_mse():
    "Two frames with errors 0.1 and 0.01 everywhere: PSNR 20 and 40 dB, reported 30 dB; the PSNR of the mean MSE is 22.97."
    truth = torch.full((1, 2, 1, 16, 16), 0.5)
    pred = truth + torch.tensor([0.1, 0.01]).view(1, 2, 1, 1, 1)
    s = sequence_scores(pred, truth, ssim=False)
    assert s["psnr"] == pytest.approx(30.0, abs=1e-3)
    assert s["per_step"]["psnr"].tolist() == pytest.approx([20.0, 40.0], abs=1e-3)
    assert 10 * math.log10(1 / s["mse"]) == pytest.approx(10 * math.log10(1 / 0.00505), abs=1e-3)   # what we do not report

def test_baselines():
    videos = frames(5, (2, 5, 1, 16, 16))
    c = copy_last_baseline(videos[:, :3], 4)
    assert c.shape == (2, 4, 1, 16, 16) and torch.equal(c[:, 2], videos[:, 2])
    assert black_baseline(videos).abs().max() == 0

@pytest.mark.parametrize("call, message", [
    (lambda: frame_mse(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 9)), "differ in shape"),
    (lambda: frame_psnr(torch.zeros(8, 8), torch.zeros(8, 8)), "(..., C, H, W)"),
    (lambda: frame_ssim(torch.zeros(1, 1, 10, 10), torch.zeros(1, 1, 10, 10)), "at least 11x11"),
    (lambda: copy_last_baseline(torch.zeros(2, 1, 8, 8), 3), "(B, T_in, C, H, W)"),
    (lambda: sequence_scores(torch.zeros(2, 1, 12, 12), torch.zeros(2, 1, 12, 12)), "(B, T, C, H, W)"),
])
def test_clear_errors(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        call()
