"Unit tests of lvd.koopman: the rotation-scaling operator, the dense baseline, the alpha schedule and a training run."
import math
import pytest, torch
from lvd.datasets import bouncing_balls
from lvd.koopman import DenseKoopman, KoopmanAE, RotationScaling, alpha_schedule, block_spectrum, fit_koopman, koopman_loss

def make_operator(dt=0.3):
    op = RotationScaling(3, dt=dt)
    with torch.no_grad():
        op.mu.copy_(torch.tensor([-0.2, 0.0, 0.1])); op.omega.copy_(torch.tensor([0.4, 1.3, 2.9]))
    return op

def test_block_eigenvalues_are_exp_of_mu_plus_minus_i_omega_dt():
    op, dt = make_operator(), 0.3
    ev = torch.linalg.eigvals(op.matrix().double())
    expected = [complex(math.exp(m * dt) * math.cos(w * dt), s * math.exp(m * dt) * math.sin(w * dt))
                for m, w in [(-0.2, 0.4), (0.0, 1.3), (0.1, 2.9)] for s in (1, -1)]
    expected = torch.tensor(expected, dtype=ev.dtype)
    assert ((ev[:, None] - expected[None]).abs().min(1).values < 1e-5).all()
    fast = op.eigenvalues().detach().to(ev.dtype)
    assert ((fast[:, None] - expected[None]).abs().min(1).values < 1e-5).all() and len(fast) == 6

@pytest.mark.parametrize("m", [2, 5, 11])
def test_K_of_m_dt_is_K_of_dt_to_the_m(m):
    op = make_operator()
    with torch.no_grad():
        assert torch.allclose(op.matrix(m), torch.linalg.matrix_power(op.matrix(1), m), atol=1e-5)

def test_fast_form_matches_the_matrix_also_between_steps():
    op = make_operator()
    z = torch.randn(7, 6)
    with torch.no_grad():
        out = op(z, [0.0, 1.0, 2.5, 4.0])
        for j, m in enumerate([0.0, 1.0, 2.5, 4.0]):
            assert torch.allclose(out[:, j], z @ op.matrix(m).T, atol=1e-5)
        # half steps compose: K(0.5)K(0.5) = K(1)
        assert torch.allclose(op.matrix(0.5) @ op.matrix(0.5), op.matrix(1.0), atol=1e-5)

def test_dense_operator_takes_whole_steps_only():
    dense = DenseKoopman(2)
    z = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.allclose(dense(z, [3])[:, 0], z @ torch.linalg.matrix_power(dense.K, 3).T, atol=1e-5)
        assert torch.allclose(dense(z, [0])[:, 0], z)
    with pytest.raises(ValueError, match="whole"):
        dense(z, [1.5])
    # it starts as the rotation blocks, so the two operators agree at initialisation
    with torch.no_grad():
        assert torch.allclose(dense(z, [1, 2]), RotationScaling(2)(z, [1.0, 2.0]), atol=1e-5)

def test_alpha_schedule_starts_as_an_autoencoder_and_ends_at_one_half():
    a = [alpha_schedule(s, 1000) for s in range(1000)]
    assert a[0] == a[99] == 1.0 and a[-1] == pytest.approx(0.5)
    assert all(x >= y for x, y in zip(a, a[1:]))                       # never increases
    with pytest.raises(ValueError, match="final"):
        alpha_schedule(0, 10, final=1.5)

@pytest.mark.parametrize("make, message", [
    (lambda: RotationScaling(0), "n_blocks"),
    (lambda: KoopmanAE(operator="sparse"), "operator"),
    (lambda: KoopmanAE(size=30), "divisible by 8"),
    (lambda: KoopmanAE()(torch.zeros(2, 1, 28, 28), [1.0]), "frames"),
    (lambda: RotationScaling(2)(torch.zeros(3, 5), [1.0]), "latent z"),
    (lambda: fit_koopman(KoopmanAE(), torch.full((2, 25, 1, 32, 32), 2.0), steps=1), r"\[0, 1\]"),
    (lambda: block_spectrum(KoopmanAE(operator="dense"), torch.zeros(2, 1, 32, 32)), "blocks"),
])
def test_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()

def test_shapes_and_any_real_time():
    model = KoopmanAE(n_blocks=3)
    with torch.no_grad():
        out = model(torch.rand(2, 1, 32, 32), torch.tensor([0.5, 1.0, 7.25]))
    assert out.shape == (2, 3, 1, 32, 32)

def test_training_lowers_the_prediction_error():
    torch.manual_seed(0)
    videos = bouncing_balls(8, 30, seed=0)
    model = KoopmanAE(n_blocks=3)
    clips = videos[:, :11]
    with torch.no_grad(): _, before = koopman_loss(model, clips, 0.5)
    hist = fit_koopman(model, videos, steps=150, horizon=10, batch=8, lr=2e-3)
    with torch.no_grad(): _, after = koopman_loss(model, clips, 0.5)
    assert len(hist["loss"]) == 150 and hist["alpha"][0] == 1.0 and hist["alpha"][-1] == 0.5
    assert after["recon"] < 0.5 * before["recon"] and after["pred"] < before["pred"]
