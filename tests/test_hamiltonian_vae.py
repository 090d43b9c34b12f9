"Chapter 10: the Hamiltonian content/motion VAE's structure, loss and generators."
import pytest
import torch
import math
from lvd.hamiltonian import HamiltonianOperator, is_hamiltonian
from lvd.hamiltonian_vae import HamiltonianVAE, image_to_sequence, swap_motion, generate, rotation_start_

def small(kind="H", **kw):
    torch.manual_seed(0)
    return HamiltonianVAE(n_actions=9, d=3, content_dim=6, size=16, width=8, features=24, kind=kind, **kw)

@pytest.mark.parametrize("kind", ["H", "skew-H"])
def test_other_subspaces_stay_zero_and_rollout_is_reversible(kind):
    m = small(kind).double()          # double precision: the round trip below is checked to 1e-8
    x, a = torch.rand(3, 8, 3, 16, 16, dtype=torch.float64), torch.tensor([0, 4, 8])
    _, _, s, _ = m.posterior(x, a, ref=torch.tensor([0, 3, 7]))
    full = m.place(s, a)
    states = m.propagate(full, torch.arange(-7, 9)).view(3, 16, 9, 6)
    for b, k in enumerate(a.tolist()):
        others = [j for j in range(9) if j != k]
        assert (states[b, :, others] == 0).all()
        assert (states[b, :, k].abs().sum(-1) > 0).all()
    there = m.propagate(full, torch.tensor([6]))[:, 0]
    torch.testing.assert_close(m.propagate(there, torch.tensor([-6]))[:, 0], full, atol=1e-8, rtol=1e-8)
    # a state carried by the operator keeps its energy (chapter 09's property, inside the model)
    E0 = m.operator.energy(full)
    torch.testing.assert_close(m.operator.energy(m.propagate(full, torch.tensor([5]))[:, 0]), E0, atol=1e-8, rtol=1e-8)

def test_decoder_sees_positions_only():
    m = small()
    z = torch.randn(2, 6)
    st = torch.randn(2, 4, 54)
    moved = st.clone().view(2, 4, 9, 6); moved[..., 3:] += 5.0     # change every momentum
    torch.testing.assert_close(m.render(z, st), m.render(z, moved.view(2, 4, 54)))

def test_unit_position_reads_directions_only():
    z, st = torch.randn(2, 6), torch.randn(2, 4, 54)
    scaled = st.clone().view(2, 4, 9, 6); scaled[:, :, 4, :3] *= 7.0; scaled = scaled.view(2, 4, 54)   # one subspace, 7x longer q
    m = small()
    torch.testing.assert_close(m.render(z, st), m.render(z, scaled))
    plain = small(unit_position=False)
    assert not torch.allclose(plain.render(z, st), plain.render(z, scaled), atol=1e-4)
    zero = torch.zeros(1, 2, 54)                                   # an all-zero state decodes (no 0/0)
    assert torch.isfinite(m.render(z[:1], zero)).all()

@pytest.mark.parametrize("kind", ["H", "skew-H"])
@pytest.mark.parametrize("d", [2, 3, 4])
def test_rotation_start_turns_positions_whatever_the_momentum(kind, d):
    op = rotation_start_(HamiltonianOperator(2, d, kind), period=6.0, noise=0.0)
    assert is_hamiltonian(op.generator())
    P = op.propagator(torch.tensor([1.0, 6.0]))                       # one frame, one period
    w = 2 * math.pi / 6
    R = torch.tensor([[math.cos(w), math.sin(w)], [-math.sin(w), math.cos(w)]])
    torch.testing.assert_close(P[0, :, :2, :2], R.expand(2, 2, 2), atol=1e-5, rtol=0)
    torch.testing.assert_close(P[0, :, :d, d:], torch.zeros(2, d, d), atol=1e-6, rtol=0)   # p does not move q
    torch.testing.assert_close(P[1], torch.eye(2 * d).expand(2, 2 * d, 2 * d), atol=1e-4, rtol=0)
    if d % 2: torch.testing.assert_close(P[0, :, d - 1, d - 1], torch.ones(2))           # the odd coordinate stays
    with pytest.raises(ValueError, match="period"): rotation_start_(op, period=-1)

def test_loss_trains_and_loop_targets():
    m = small()
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 8, 3, 16, 16); a = torch.tensor([1, 2, 3, 4])
    out = m.loss(x, a, generator=g)
    assert set(out) == {"loss", "sse", "kl_z", "kl_s"} and torch.isfinite(out["loss"])
    loop = m.loss(x, a, generator=torch.Generator().manual_seed(0), horizon=16)
    assert loop["sse"] > out["sse"]   # twice the frames scored
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    first = None
    for step in range(60):
        opt.zero_grad(); l = m.loss(x, a, generator=g)["loss"]; l.backward(); opt.step()
        first = first if first is not None else l.item()
    assert l.item() < 0.5 * first

def test_generators_shapes_and_errors():
    m = small().eval()
    x = torch.rand(2, 8, 3, 16, 16)
    assert image_to_sequence(m, x[:, 0], torch.tensor([0, 5]), 16).shape == (2, 16, 3, 16, 16)
    ab, ba = swap_motion(m, x[:1], torch.tensor([1]), x[1:], torch.tensor([2]))
    assert ab.shape == ba.shape == (1, 8, 3, 16, 16)
    v = generate(m, x, torch.tensor([3, 8]), T=5, generator=torch.Generator().manual_seed(0))
    assert v.shape == (2, 5, 3, 16, 16)
    again = generate(m, x, torch.tensor([3, 8]), T=5, generator=torch.Generator().manual_seed(0))
    other = generate(m, x, torch.tensor([4, 8]), T=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(v, again)                       # the prior's draw comes from the generator, nothing else
    assert not torch.allclose(v[0], other[0]) and torch.equal(v[1], other[1])   # the action asked for moves its video only
    with pytest.raises(ValueError, match=r"expected action in \[0, 9\)"): m.posterior(x, torch.tensor([0, 9]))
    with pytest.raises(ValueError, match=r"expected frames of shape \(B, T, 3, 16, 16\)"): m.posterior(torch.rand(2, 8, 1, 16, 16), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="window"): HamiltonianVAE(window=0)
    with pytest.raises(ValueError, match="alpha"): HamiltonianVAE(alpha=0)
    torch.manual_seed(0)
    coupling = lambda m: m.operator.generator()[:, :2, 2:].abs().max().item()     # how much p moves q
    assert coupling(HamiltonianVAE(period=8.0)) < 0.1 < coupling(HamiltonianVAE(period=None))   # None: chapter 09's random start

@torch.no_grad()
def test_swap_motion_takes_content_from_the_first_video_and_motion_from_the_second():
    m = small().eval()
    x = torch.rand(2, 8, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    a, b, ka, kb = x[:1], x[1:], torch.tensor([1]), torch.tensor([5])
    za, _, sa, _ = m.posterior(a, ka)
    zb, _, sb, _ = m.posterior(b, kb)
    t = torch.arange(8, dtype=torch.float32)
    def by_hand(z, s, k): return m.decode(m.rollout((z, m.place(s, k)), t))
    ab, ba = swap_motion(m, a, ka, b, kb)
    torch.testing.assert_close(ab, by_hand(za, sb, kb)); torch.testing.assert_close(ba, by_hand(zb, sa, ka))
    assert (ab - by_hand(zb, sb, kb)).abs().max() > 1e-4 and (ab - by_hand(za, sa, ka)).abs().max() > 1e-4   # it does swap
    ba2, ab2 = swap_motion(m, b, kb, a, ka)
    torch.testing.assert_close(ab2, ab); torch.testing.assert_close(ba2, ba)      # swapping the videos swaps the outputs
    aa, aa2 = swap_motion(m, a, ka, a, ka)
    torch.testing.assert_close(aa, by_hand(za, sa, ka)); torch.testing.assert_close(aa2, aa)   # own motion: own reconstruction

@torch.no_grad()
def test_generate_draws_the_asked_action_from_the_prior_with_the_content_asked_for():
    m = small().eval()
    x = torch.rand(2, 8, 3, 16, 16, generator=torch.Generator().manual_seed(4))
    k, T = torch.tensor([3, 8]), 5
    z, _, _, _ = m.posterior(x, torch.zeros(2, dtype=torch.long))
    s = torch.randn(2, 2 * m.d, generator=torch.Generator().manual_seed(0))
    by_hand = m.decode(m.rollout((z, m.place(s, k)), torch.arange(T, dtype=torch.float32)))
    torch.testing.assert_close(generate(m, x, k, T, generator=torch.Generator().manual_seed(0)), by_hand)
    # content from the prior: z is drawn first, then the state, from the same generator
    g = torch.Generator().manual_seed(0)
    z0 = torch.randn(2, m.content_dim, generator=g); s0 = torch.randn(2, 2 * m.d, generator=g)
    prior = generate(m, None, k, T, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(prior, m.decode(m.rollout((z0, m.place(s0, k)), torch.arange(T, dtype=torch.float32))))
    with pytest.raises(ValueError, match="action"): generate(m, None, torch.tensor([9]), T)
    with pytest.raises(TypeError, match="integer action"): generate(m, None, 1.5, T)
    # a property the code cannot copy: an operator that turns by 2 pi / 8 per frame draws frame 8 as frame 0
    rotation_start_(m.operator, 8, noise=0)
    v = generate(m, x, k, 9, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(v[:, 8], v[:, 0], atol=1e-4, rtol=0)
    assert (v[:, 2] - v[:, 0]).abs().max() > 1e-3                        # and it does move in between
