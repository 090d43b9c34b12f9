"Unit tests of lvd.dmd: exact DMD on known linear systems, agreement with PyDMD, the toy videos and the flow simulation."
import math
import pytest, torch
from lvd.dmd import DMD, optimal_rank
from lvd.datasets import SEPARATED, ball_frequencies, bouncing_balls, vortex_street
from lvd.metrics import mse_per_step

def rotation(mu, w):
    return math.exp(mu) * torch.tensor([[math.cos(w), -math.sin(w)], [math.sin(w), math.cos(w)]], dtype=torch.float64)

def linear_data(n_features=40, steps=80, noise=0.0, seed=0):
    "Snapshots x_k = M z_k of two damped rotations, (n_features, steps), and the true eigenvalues."
    g = torch.Generator().manual_seed(seed)
    A = torch.block_diag(rotation(-0.02, 0.25), rotation(0.0, 1.0))
    M = torch.randn(n_features, 4, generator=g, dtype=torch.float64)
    z = [torch.randn(4, generator=g, dtype=torch.float64)]
    for _ in range(steps - 1): z.append(A @ z[-1])
    X = M @ torch.stack(z, 1)
    return X + noise * torch.randn(X.shape, generator=g, dtype=torch.float64), torch.linalg.eigvals(A)

def matched(a, b, tol):
    "Every value of a has one of b within tol, and vice versa."
    d = (a[:, None] - b[None, :]).abs()
    return bool((d.min(1).values < tol).all() and (d.min(0).values < tol).all())

def test_dmd_recovers_a_known_linear_system_exactly():
    X, true = linear_data()
    d = DMD(rank=None).fit(X)
    assert d.rank_ == 4
    assert matched(d.eigs, true, 1e-10)
    cont = d.continuous_eigs
    assert matched(cont, torch.tensor([-0.02 + 0.25j, -0.02 - 0.25j, 1j, -1j], dtype=cont.dtype), 1e-10)
    pred = d.forecast(X[:, :1].T, X.shape[1] - 1)[0].T
    assert (pred - X[:, 1:]).abs().max() < 1e-9

def test_closed_form_equals_powers_and_interpolates():
    X, _ = linear_data(noise=0.01)
    d = DMD(rank=6).fit(X)
    x0 = X[:, :3].T
    assert torch.allclose(d.forecast(x0, 15), d.closed_form(x0, torch.arange(1, 16)), atol=1e-9)
    X2, _ = linear_data()
    d2 = DMD(rank=None, dt=0.5).fit(X2)
    half = d2.closed_form(X2[:, :1].T, [1.25])[0, 0]   # t = 1.25 = 2.5 steps of dt = 0.5
    assert (half - (X2[:, 2] + X2[:, 3]) / 2).abs().max() < (X2[:, 2] - X2[:, 3]).abs().max()   # between the samples
    assert d2.continuous_eigs.imag.abs().max() == pytest.approx(2.0, abs=1e-9)                   # 1 rad per step / dt

def test_eigenvalues_agree_with_pydmd():
    pydmd = pytest.importorskip("pydmd")
    X, _ = linear_data(noise=0.05, seed=1)
    for r in (4, 8):
        ours = DMD(rank=r).fit(X).eigs
        theirs = torch.as_tensor(pydmd.DMD(svd_rank=r, exact=True).fit(X.numpy()).eigs)
        assert len(ours) == len(theirs) == r
        assert matched(ours, theirs.to(ours.dtype), 1e-8)

def test_optimal_rank_separates_signal_from_noise():
    g = torch.Generator().manual_seed(0)
    low = torch.randn(200, 3, generator=g, dtype=torch.float64) @ torch.randn(3, 100, generator=g, dtype=torch.float64)
    noisy = low + 0.01 * torch.randn(200, 100, generator=g, dtype=torch.float64)
    s = torch.linalg.svdvals(noisy)
    assert optimal_rank(s, noisy.shape) == 3

@pytest.mark.parametrize("make, message", [
    (lambda: DMD(rank=0), "rank"),
    (lambda: DMD(rank="best"), "rank"),
    (lambda: DMD(dt=0), "dt"),
    (lambda: DMD().fit(torch.ones(3)), "features, snapshots"),
    (lambda: DMD().fit(torch.tensor([[1.0, float("nan")], [0.0, 1.0]])), "finite"),
    (lambda: DMD().fit(torch.ones(4, 5), torch.ones(4, 4)), "same shape"),
    (lambda: DMD().forecast(torch.ones(1, 4), 3), "fit"),
    (lambda: DMD(rank=2).fit(linear_data()[0]).forecast(torch.ones(2, 7), 3), r"shape \(B, 40\)"),
    (lambda: mse_per_step(torch.ones(2, 3, 4), torch.ones(2, 3, 5)), "shape"),
    (lambda: bouncing_balls(0, 5), "n >= 1"),
    (lambda: bouncing_balls(2, 5, overlap="blend"), "overlap"),
])
def test_clear_errors(make, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        make()

def test_bouncing_balls_are_seeded_bounded_and_periodic():
    a, b = bouncing_balls(3, 33, seed=4), bouncing_balls(3, 33, seed=4)
    assert a.shape == (3, 33, 1, 32, 32) and torch.equal(a, b)
    assert not torch.equal(a, bouncing_balls(3, 33, seed=5))
    assert a.min() >= 0 and a.max() <= 1 and a.amax((2, 3, 4)).min() > 0.9      # both balls visible, in range
    # periods 10 and 16 frames: the whole video repeats after lcm = 80 frames, ball 1 alone after 10
    v = bouncing_balls(2, 81, seed=0)
    assert torch.allclose(v[:, 80], v[:, 0], atol=1e-4) and not torch.allclose(v[:, 10], v[:, 0], atol=1e-2)
    assert torch.allclose(ball_frequencies(), torch.tensor([2 * math.pi / 10, 2 * math.pi / 16]))
    assert bouncing_balls(1, 2, size=64).shape == (1, 2, 1, 64, 64)

def test_dmd_is_exact_on_separated_balls_and_not_on_crossing_ones():
    "The chapter's claim: separated balls are a finite linear system in pixel space, crossing balls are not."
    errs = {}
    for name, kw in [("separated", SEPARATED), ("crossing", {})]:
        train, test = bouncing_balls(16, 40, seed=1, **kw), bouncing_balls(16, 11, seed=2, **kw)
        d = DMD.from_videos(train, rank="optimal")
        errs[name] = mse_per_step(d.forecast(test[:, 0].flatten(1), 10), test[:, 1:].flatten(2)).mean().item()
    assert errs["separated"] < 1e-8
    assert errs["crossing"] > 1e-4

def test_vortex_street_sheds_periodically():
    vort, solid, info = vortex_street(nx=100, ny=30, diameter=6, reynolds=100, transient=1500, every=30, snapshots=60,
                                      progress_bar=False)
    assert vort.shape == (60, 100, 30) and solid.shape == (100, 30) and torch.isfinite(vort).all()
    assert vort[:, ~solid].abs().max() > 1e-3                  # the wake moves
    d = DMD(rank="optimal", dt=info["dt"]).fit(vort.flatten(1).T)
    lam, amp = d.continuous_eigs, d.amplitudes(vort[:1].flatten(1))[0]
    oscillating = lam.imag > 1e-6
    main = amp[oscillating].argmax()
    assert abs(lam.real[oscillating][main].item()) < 1e-3, "the dominant oscillation should neither grow nor decay"
    strouhal = lam.imag[oscillating][main].item() / (2 * math.pi) * info["diameter"] / info["u_in"]
    # an independent estimate: the strongest frequency of the vorticity at a probe behind the cylinder, to one FFT bin
    probe = vort[:, 40, 18]
    spectrum = torch.fft.rfft(probe - probe.mean()).abs()
    to_strouhal = info["diameter"] / info["u_in"] / (len(probe) * info["dt"])       # one FFT bin in Strouhal units
    fft_strouhal = (spectrum[1:].argmax().item() + 1) * to_strouhal
    assert abs(strouhal - fft_strouhal) <= to_strouhal, (strouhal, fft_strouhal)    # measured: 0.185 and 0.200 (bin 0.033)
    assert 0.15 < strouhal < 0.22                                                   # a confined wake at Re = 100

def test_vortex_street_rejects_unstable_settings():
    with pytest.raises(ValueError, match="too close to 2"):
        vortex_street(nx=100, ny=30, diameter=4, reynolds=5000, transient=0, snapshots=1, progress_bar=False)
    with pytest.raises(ValueError, match="low Mach"):
        vortex_street(u_in=0.5)
