"""Losses checked by value on tiny inputs: every term and its weight, recomputed by hand from the model's own pieces,
and the Gaussian KL against torch.distributions. A dropped term or a swapped weight changes these numbers."""
import pytest, torch
from torch.distributions import Normal, kl_divergence
from lvd.dvae import DynamicVAE, FrameVAE
from lvd.nets import gaussian_kl
from lvd.koopman import KoopmanAE, koopman_loss
from lvd.hamiltonian_vae import HamiltonianVAE

def testgaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 7, generator=g), torch.randn(5, 7, generator=g)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros(7), torch.ones(7))).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected)

def test_dynamic_vae_loss_terms_and_weights():
    torch.manual_seed(0)
    m, x = DynamicVAE(n=3, size=8, width=4), torch.rand(4, 2, 1, 8, 8)
    with torch.no_grad(): m.dynamics.A.add_(0.1)   # A starts stationary (penalty 0), where lam could not be seen
    sigma2, lam = 2.0, 7.0
    torch.manual_seed(1); out = m.loss(x, sigma2=sigma2, lam=lam)
    torch.manual_seed(1); recon, mu, logvar = m(x)             # the same posterior sample
    rec = (4 * (recon - x) ** 2).flatten(1).sum(1).mean() / sigma2   # squared error on [-1, 1] frames
    kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1).mean()
    A, B = m.dynamics.A, m.dynamics.B
    stat = ((A @ A.T + B @ B.T - torch.eye(3)) ** 2).sum()
    assert stat > 0.01
    for key, value in [("reconstruction", rec), ("kl", kl), ("stationarity", stat), ("total", rec + kl + lam * stat)]:
        torch.testing.assert_close(out[key], value, msg=key)

def test_frame_vae_loss_terms():
    torch.manual_seed(0)
    m, x = FrameVAE(n=3, size=8, width=4), torch.rand(4, 1, 8, 8)
    torch.manual_seed(1); out = m.loss(x, sigma2=4.0)
    torch.manual_seed(1); mu, logvar = m.encode(x); recon = m.decode(mu + torch.randn_like(mu) * (0.5 * logvar).exp())
    rec = (4 * (recon - x) ** 2).flatten(1).sum(1).mean() / 4.0
    kl = gaussian_kl(mu, logvar).mean()
    torch.testing.assert_close(out["total"], rec + kl)
    torch.testing.assert_close(out["reconstruction"], rec)

@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_koopman_loss_blends_reconstruction_and_prediction(alpha):
    torch.manual_seed(0)
    m, clips = KoopmanAE(2, size=8), torch.rand(3, 4, 1, 8, 8)
    loss, parts = koopman_loss(m, clips, alpha)
    z0 = m.encode_frames(clips[:, 0])
    recon = ((m.decode_frames(z0) - clips[:, 0]) ** 2).mean()
    pred = torch.stack([m.decode_frames(m.K(z0, torch.tensor([k]))[:, 0]) for k in (1, 2, 3)], 1)   # frame k from K^k z0
    prediction = ((pred - clips[:, 1:]) ** 2).mean()
    torch.testing.assert_close(loss, alpha * recon + (1 - alpha) * prediction)
    assert parts["recon"] == pytest.approx(recon.item()) and parts["pred"] == pytest.approx(prediction.item())

def test_hamiltonian_vae_loss_weights():
    torch.manual_seed(0)
    m = HamiltonianVAE(n_actions=3, d=2, content_dim=4, size=8, width=4, features=8, window=2, alpha=0.5)
    x, a = torch.rand(2, 4, 3, 8, 8), torch.tensor([0, 2])
    torch.manual_seed(5); out = m.loss(x, a, generator=torch.Generator().manual_seed(3))   # the same reference frames and samples
    torch.testing.assert_close(out["loss"], out["sse"] / (2 * 0.5 ** 2) + out["kl_z"] + out["kl_s"])
    assert out["kl_z"] > 0 and out["kl_s"] > 0 and out["sse"] > 0
    m.alpha = 1.0                                                 # alpha scales the reconstruction term only
    torch.manual_seed(5); again = m.loss(x, a, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(again["loss"], again["sse"] / 2 + again["kl_z"] + again["kl_s"])
    torch.testing.assert_close((out["sse"], out["kl_z"], out["kl_s"]), (again["sse"], again["kl_z"], again["kl_s"]))
