"Chapter 07: the dynamic layer, the closed-form LDS, the VAR fit, masks, the texture and the Frechet distance."
import numpy as np
import pytest
import torch
from scipy import linalg

from lvd.dvae import DynamicLayer, DynamicVAE, FrameVAE, LinearDynamicTexture, VAEVAR, fit_dvae, fit_var, mean_rollout, var_rollout

from lvd.judges import order_score
from lvd.datasets import digit_cycles, pad_frames, rectangle_mask, salt_pepper_mask, wave_texture
from lvd.metrics import frechet_distance, psd_sqrt


def test_dynamic_layer_covariance_matches_eq4():
    "With A A^T + B B^T = I, (h_1, h_2) = F x for x ~ N(0, I) has covariance [[I, A^T], [A, I]] (eq. 4)."
    n = 4
    layer = DynamicLayer(n, window=2)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        M = torch.randn(n, n, generator=g)
        layer.A.copy_(0.8 * M / torch.linalg.matrix_norm(M, 2))
        layer.B.copy_(psd_sqrt(torch.eye(n) - layer.A @ layer.A.T))
        assert layer.stationarity().item() < 1e-10
        h = layer(torch.randn(400_000, 2 * n, generator=g)).flatten(1).double()
    cov = h.T @ h / len(h)
    A = layer.A.double()
    target = torch.cat([torch.cat([torch.eye(n, dtype=A.dtype), A.T], 1), torch.cat([A, torch.eye(n, dtype=A.dtype)], 1)])
    assert (cov - target).abs().max() < 0.01
    # and it is not trivially true: a B that breaks eq. (5) gives a different covariance
    with torch.no_grad(): layer.B.mul_(0.5)
    assert layer.stationarity().item() > 0.01
    with torch.no_grad(): h = layer(torch.randn(100_000, 2 * n, generator=g)).flatten(1).double()
    assert ((h.T @ h / len(h)) - target).abs().max() > 0.1


def test_longer_window_is_the_var_unrolled():
    layer = DynamicLayer(3, window=4)
    x = torch.randn(5, 12)
    h = layer(x)
    A, B = layer.A.detach(), layer.B.detach()
    xs = x.view(5, 4, 3)
    expect = xs[:, 0]
    for k in range(1, 4):
        expect = expect @ A.T + xs[:, k] @ B.T
    torch.testing.assert_close(h[:, 3], expect)


def test_lds_recovers_a_known_system():
    g = torch.Generator().manual_seed(1)
    theta = torch.tensor([0.25, 1.1])
    A = torch.block_diag(*[0.95 * torch.tensor([[c, -s], [s, c]]) for c, s in zip(theta.cos(), theta.sin())])
    h, hs = 0.1 * torch.randn(4, generator=g), []
    for _ in range(5000):
        hs.append(h)
        h = A @ h + 0.05 * torch.randn(4, generator=g)
    C = torch.linalg.qr(torch.randn(36, 4, generator=g))[0]
    video = (torch.stack(hs) @ C.T + 0.5).reshape(1, -1, 1, 6, 6)
    lds = LinearDynamicTexture(4).fit(video)
    # the state basis is arbitrary: compare A through the similarity S = C_hat^T C, and the eigenvalues
    S = lds.C.T @ C
    torch.testing.assert_close(lds.A, S @ A @ torch.linalg.inv(S), atol=0.02, rtol=0)
    e_fit, e_true = torch.linalg.eigvals(lds.A.double()), torch.linalg.eigvals(A.double())
    key = lambda e: sorted(zip(e.angle().tolist(), e.abs().tolist()))
    np.testing.assert_allclose(key(e_fit), key(e_true), atol=0.01)
    torch.testing.assert_close(lds.B @ lds.B.T, 0.0025 * torch.eye(4), atol=0.0005, rtol=0)
    torch.testing.assert_close(lds.decode_frames(lds.encode_frames(video[0, :3])), video[0, :3], atol=1e-4, rtol=0)


def test_fit_var_clips_gain_and_rejects_bad_input():
    g = torch.Generator().manual_seed(2)
    h = torch.randn(500, 3, generator=g)
    A, B = fit_var(h, 1.5 * h)                     # an exploding fit gets its singular values clipped at 1
    assert torch.linalg.svdvals(A).max() <= 1 + 1e-5
    A2, _ = fit_var(h, 1.5 * h, max_gain=None)
    torch.testing.assert_close(A2, 1.5 * torch.eye(3), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="more pairs"):
        fit_var(h[:3], h[:3])
    with pytest.raises(ValueError):
        fit_var(h, h[:, :2])
    roll = var_rollout(torch.zeros(7, 3), A, B, 5, torch.Generator().manual_seed(0))
    assert roll.shape == (7, 5, 3) and (roll[:, 0] == 0).all()


def test_var_rollout_adds_its_noise_and_fit_var_recovers_a_known_var():
    A = torch.tensor([[0.9, -0.3], [0.3, 0.9]]); B = torch.tensor([[0.2, 0.0], [0.05, 0.1]])
    h0 = torch.tensor([[1.0, -1.0], [0.5, 2.0]])
    # one step by hand: h1 = A h0 + B w, with w the generator's first draw
    w = torch.randn(h0.shape, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(var_rollout(h0, A, B, 2, torch.Generator().manual_seed(5))[:, 1], h0 @ A.T + w @ B.T)
    # without noise the rollout is the mean path A^t h0, which the video models' rollout returns
    torch.testing.assert_close(var_rollout(h0, A, torch.zeros(2, 2), 6), mean_rollout(h0, A, torch.arange(6)))
    torch.testing.assert_close(mean_rollout(h0, A, torch.tensor([3]))[:, 0], h0 @ torch.linalg.matrix_power(A, 3).T)
    # a long noisy path: least squares gives A back, and B B^T (the noise covariance) up to sampling error
    path = var_rollout(torch.zeros(1, 2), A, B, 20_000, torch.Generator().manual_seed(6))[0]
    A_fit, B_fit = fit_var(path[:-1], path[1:], max_gain=None)
    torch.testing.assert_close(A_fit, A, atol=0.02, rtol=0)
    torch.testing.assert_close(B_fit @ B_fit.T, B @ B.T, atol=0.004, rtol=0)


@torch.no_grad()
def test_vaevar_fits_its_var_on_the_posterior_means_of_successive_frames():
    class FirstPixels(torch.nn.Module):              # a "VAE" whose posterior mean is read off a frame's first two pixels
        def __init__(self): super().__init__(); self.unused = torch.nn.Parameter(torch.zeros(1))
        def encode(self, x): return (x.flatten(1)[:, :2] - 0.5) * 4, None
    A = torch.tensor([[0.8, -0.3], [0.3, 0.8]])
    h = [torch.rand(40, 2, generator=torch.Generator().manual_seed(8))]
    for _ in range(4): h.append(h[-1] @ A.T)
    video = torch.zeros(40, 5, 1, 4, 4)
    video.view(40, 5, -1)[..., :2] = 0.5 + torch.stack(h, 1) / 4       # the means follow A exactly, without noise
    model = VAEVAR(FirstPixels()).fit(video, max_gain=None)
    torch.testing.assert_close(model.A, A, atol=1e-5, rtol=0)
    torch.testing.assert_close(model.B, torch.zeros(2, 2), atol=1e-3, rtol=0)
    # its forecast state: the last context frame's mean, carried by A
    torch.testing.assert_close(model.encode(video[:, :3]), h[2])
    torch.testing.assert_close(model.rollout(model.encode(video[:, :3]), torch.tensor([2.0]))[:, 0], h[4], atol=1e-5, rtol=0)


def test_digit_cycles_follow_the_cycle_and_draw_new_styles():
    images = torch.rand(50, 28, 28)
    labels = torch.arange(50) % 5
    frames, digits = digit_cycles(pad_frames(images), labels, 20, 12, generator=torch.Generator().manual_seed(0))
    assert frames.shape == (20, 12, 1, 32, 32) and digits.shape == (20, 12)
    assert ((digits[:, 1:] - digits[:, :-1]) % 5 == 1).all()
    assert not torch.equal(frames[:, 0], frames[:, 5])    # same digit five frames later, different image
    assert order_score(digits).eq(1).all() and order_score(digits.flip(1)).eq(0).all()
    with pytest.raises(ValueError, match="no image of digit 7"):
        digit_cycles(images, labels, 2, 3, cycle=(0, 7))
    with pytest.raises(ValueError):
        pad_frames(torch.rand(3, 40, 40), 32)


def test_masks_hide_what_they_say():
    g = torch.Generator().manual_seed(0)
    sp = salt_pepper_mask((64, 32, 32), generator=g)
    assert abs(sp.mean().item() - 0.5) < 0.01
    rect = rectangle_mask((64, 32, 32), generator=g)
    hidden = 1 - rect.flatten(1).mean(1)
    assert ((hidden - 0.5).abs() < 0.02).all()
    assert not torch.equal(rect[0], rect[1])            # a new place every frame
    with pytest.raises(ValueError): salt_pepper_mask((2, 4, 4), keep=0)


def test_masked_loss_ignores_hidden_pixels():
    torch.manual_seed(0)
    model = DynamicVAE(n=3, size=16, window=2, width=8, masked=True)
    frames = torch.rand(4, 2, 1, 16, 16)
    mask = salt_pepper_mask(frames.shape, generator=torch.Generator().manual_seed(1))
    changed = torch.where(mask.bool(), frames, torch.rand_like(frames))   # only hidden pixels differ
    torch.manual_seed(3); a = model.loss(frames, mask)
    torch.manual_seed(3); b = model.loss(changed, mask)
    torch.testing.assert_close(a["total"], b["total"])
    with pytest.raises(ValueError, match="masked=True"):
        model.loss(frames)


def test_dvae_trains_and_synthesizes_online():
    torch.manual_seed(0)
    model = DynamicVAE(n=4, size=16, window=3, width=8)
    data = torch.rand(8, 3, 1, 16, 16)
    hist = fit_dvae(model, lambda step: data, steps=3)
    assert len(hist["total"]) == 3 and all(np.isfinite(hist["total"]))
    frames = list(model.synthesize(model.start(data), 6, torch.Generator().manual_seed(0)))
    assert len(frames) == 6 and frames[0].shape == (8, 1, 16, 16)
    assert all(((f >= 0) & (f <= 1)).all() for f in frames)
    with pytest.raises(ValueError):
        DynamicVAE(n=4, size=24)
    vae = FrameVAE(n=4, size=16, width=8)
    video = torch.rand(6, 5, 1, 16, 16)
    baseline = VAEVAR(vae).fit(video)
    assert baseline.synthesize(video[:2, 0], 4).shape == (2, 4, 1, 16, 16)


def test_wave_texture_is_seeded_stable_and_in_range():
    a, b = wave_texture(30, size=16, seed=0), wave_texture(30, size=16, seed=0)
    assert torch.equal(a, b) and a.shape == (30, 1, 16, 16)
    assert 0 <= a.min() and a.max() <= 1 and 0.3 < a.mean() < 0.7 and a.std() > 0.05
    assert not torch.equal(a, wave_texture(30, size=16, seed=1))
    with pytest.raises(ValueError, match="stable"):
        wave_texture(5, courant=0.9)


def test_frechet_distance_matches_the_scipy_formula():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(400, 6, generator=g) @ torch.randn(6, 6, generator=g)
    b = torch.randn(300, 6, generator=g) @ torch.randn(6, 6, generator=g) + 0.5
    A, B = a.double().numpy(), b.double().numpy()
    Sa, Sb = np.cov(A, rowvar=False), np.cov(B, rowvar=False)
    covmean = linalg.sqrtm(Sa @ Sb).real
    ref = ((A.mean(0) - B.mean(0)) ** 2).sum() + np.trace(Sa + Sb - 2 * covmean)
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError): frechet_distance(a[:1], b)
