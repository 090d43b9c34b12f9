"Unit tests of lvd.ode: the paper's spiral data, the neural ODE's interface, and what it learns."
import cmath, math
import pytest, torch
from lvd.ode import NeuralODE, TimeMLP, extrapolation_report, fit_neural_ode, fit_time_mlp
from lvd.datasets import random_windows, spiral_states, spiral_trajectory

def test_spiral_converges_to_the_exact_log_spiral():
    "Eq. (4) is an Euler scheme: as dt shrinks its path approaches c + (z0 - c) exp((i w0 - lam) t)."
    w0, lam, T = 10.0, 1.5, 1.0
    z0 = complex(1.0, 0.0); c = z0 - 1j * w0 / (1j * w0 - lam)
    exact = c + (z0 - c) * cmath.exp((1j * w0 - lam) * T)
    errs = []
    for n in (1001, 10001):
        _, X, _ = spiral_trajectory([1.0, 0.0], w0, lam, n_points=n, dt=T / (n - 1))
        errs.append(abs(complex(X[-1, 0].item(), X[-1, 1].item()) - exact))
    assert errs[1] < errs[0] / 5 and errs[1] < 2e-3

def test_circle_stays_on_the_unit_circle():
    _, X, _ = spiral_trajectory([1.0, 0.0], w0=10.0, lam=0.0, n_points=20001, dt=1e-4)
    r = X.norm(dim=-1)
    assert (r - 1).abs().max() < 2e-3

def test_spiral_batch_and_velocities():
    t, X, V = spiral_trajectory(torch.zeros(5, 2), v0=torch.ones(5, 2))
    assert X.shape == V.shape == (5, 1000, 2) and t.shape == (1000,)
    assert torch.allclose(V[:, 0], torch.ones(5, 2))
    assert torch.allclose(V.norm(dim=-1)[:, -1], math.sqrt(2) * torch.exp(torch.tensor(-1.5 * t[-1].item())).expand(5), rtol=1e-4)

@pytest.mark.parametrize("kwargs, message", [
    (dict(x0=[[1.0, 2.0, 3.0]]), r"expected x0 of shape \(N, 2\), got \(1, 3\)"),
    (dict(x0=[0.0, float("nan")]), "finite values in x0"),
    (dict(x0=[0.0, 0.0], dt=-1e-3), "positive time step"),
    (dict(x0=[0.0, 0.0], n_points=1), "n_points >= 2"),
])
def test_spiral_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message): spiral_trajectory(**kwargs)

def test_rollout_interface_and_errors():
    ode = NeuralODE(dim=4, width=8)
    assert ode.rollout(torch.zeros(2, 4), torch.linspace(0, 1, 7)).shape == (2, 7, 4)
    with pytest.raises(ValueError, match="strictly increasing"): ode.rollout(torch.zeros(2, 4), torch.tensor([0.0, 0.0]))
    with pytest.raises(ValueError, match=r"got \(2, 3\)"): ode.rollout(torch.zeros(2, 3), torch.linspace(0, 1, 7))
    with pytest.raises(ValueError, match="finite"): ode.rollout(torch.full((1, 4), float("nan")), torch.linspace(0, 1, 3))
    with pytest.raises(ValueError, match="batch_time"): random_windows(torch.zeros(1, 5, 2), 6, 3)
    with pytest.raises(ValueError, match=r"\(N, T, \.\.\.\)"): random_windows(torch.zeros(5, 2), 2, 3)
    with pytest.raises(ValueError, match="expected n >= 1"): spiral_states(0)

def test_neural_ode_extrapolates_a_circle():
    "A small budget suffices to learn a rotation from the first 80% and continue it; a time-MLP does not continue it."
    torch.manual_seed(0)
    t, X, _ = spiral_trajectory([1.0, 0.0], w0=10.0, lam=0.0)
    model = NeuralODE(dim=2, width=32, scale=10.0)
    fit_neural_ode(model, t[:800:10], X[None, :800:10], steps=250, batch_size=32, lr=5e-3)
    with torch.no_grad(): pred = model.rollout(X[None, 0], t[::10])[0]
    ode_rel = extrapolation_report(X[::10], pred, 80)["test_rel"]
    assert ode_rel < 0.05, ode_rel

def test_random_windows_cut_consecutive_frames_from_videos():
    videos = torch.arange(3 * 10, dtype=torch.float32).view(3, 10, 1, 1, 1).expand(3, 10, 1, 2, 2)
    w = random_windows(videos, 4, 5, torch.Generator().manual_seed(0))
    assert w.shape == (5, 4, 1, 2, 2)
    assert torch.equal(w[:, 1:, 0, 0, 0] - w[:, :-1, 0, 0, 0], torch.ones(5, 3))   # consecutive steps of one video

def test_time_mlp_fits_a_path_inside_and_not_beyond():
    "The baseline of chapter 01: x(t) = g(t) fits the observed times of a circle and does not continue it beyond them."
    torch.manual_seed(0)
    t = torch.linspace(0, 1, 40)
    path = torch.stack([torch.cos(2 * math.pi * t), torch.sin(2 * math.pi * t)], -1)
    m = TimeMLP(width=32, depth=2)
    losses = fit_time_mlp(m, t, path, 1500)
    assert losses[-1] < 0.01 * losses[0] and losses[-1] < 5e-3
    with torch.no_grad():
        beyond = torch.linspace(1.25, 2.0, 10)
        err = ((m(beyond) - torch.stack([torch.cos(2 * math.pi * beyond), torch.sin(2 * math.pi * beyond)], -1)) ** 2).mean()
    assert err > 10 * losses[-1]                        # a function of time knows nothing of the motion beyond its data
