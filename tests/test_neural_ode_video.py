"Unit tests of chapters 02-04: the Gaussian ball, spatial encoding, the autoencoder, the latent ODE, Moving MNIST and the disentangled model."
import math
import pytest, torch
from lvd.autoencoder import ConvAutoencoder, fit_autoencoder, affine_r2
from lvd.nets import spatial_encoding
from lvd.datasets import gaussian_ball_videos, ball_grid
from lvd.latent_ode import LatentODE, SecondOrderField
from lvd.metrics import centre_of_mass
from lvd.disentangled import DisentangledODE, fit_disentangled, paste, GlyphDecoder, two_frame_oracle
from lvd.datasets import draw_digits, mnist_digits, moving_mnist

def test_ball_follows_a_damped_spiral():
    t, frames, centres = gaussian_ball_videos(8, T=40, seed=3)
    assert frames.shape == (8, 40, 1, 28, 28) and 0 <= frames.min() and frames.max() <= 1
    assert centres.min() >= 3 - 1e-4 and centres.max() <= 24 + 1e-4
    # the brightest pixel sits on the rendered centre
    flat = frames[:, :, 0].flatten(2).argmax(-1)
    assert ((torch.stack([flat % 28, flat // 28], -1).float() - centres).abs() <= 0.5 + 1e-4).all()
    # one scale per video: the velocity turns at w0 = 10 rad/s (a per-axis scale would distort the angle)
    v = centres.diff(dim=1)
    turn = torch.atan2(v[:, 1:, 0] * v[:, :-1, 1] - v[:, 1:, 1] * v[:, :-1, 0], (v[:, 1:] * v[:, :-1]).sum(-1)).abs()
    assert turn.mean().item() == pytest.approx(10 * (t[1] - t[0]).item(), rel=0.02)
    assert torch.equal(gaussian_ball_videos(2, seed=5)[1], gaussian_ball_videos(2, seed=5)[1])

def test_spatial_encoding_channels():
    enc = spatial_encoding(16, n_freqs=3)
    assert enc.shape == (14, 16, 16)
    assert torch.allclose(enc[0], enc[1].T) and (enc[0].diff(dim=1) > 0).all()
    assert torch.allclose(enc[2 + 4 * 2], torch.sin(4 * math.pi * enc[0]), atol=1e-6)   # l = 3: sin(2^2 pi x)

def test_sigmoid_autoencoder_collapses_and_linear_one_learns():
    _, videos, _ = gaussian_ball_videos(32, seed=1)
    black = (videos ** 2).mean().item()
    mse = {}
    for output in ("sigmoid", "linear"):
        torch.manual_seed(0)
        m = ConvAutoencoder(latent_dim=4, n_freqs=0, width=16, hidden=64, output=output)
        fit_autoencoder(m, videos, steps=120, batch_size=32)
        with torch.no_grad(): mse[output] = ((m(videos.flatten(0, 1)) - videos.flatten(0, 1)) ** 2).mean().item()
    assert mse["sigmoid"] == pytest.approx(black, rel=0.05)      # the black frame
    assert mse["linear"] < 0.5 * black

def test_affine_r2_and_grid():
    frames, centres = ball_grid(5)
    assert frames.shape == (25, 1, 28, 28) and affine_r2(centres, 2 * centres + 1) == pytest.approx(1.0)

def test_latent_ode_starts_from_two_frames_and_is_continuous_in_time():
    torch.manual_seed(0)
    m = LatentODE(latent_dim=3, width=8, hidden=16, field_width=16)
    x = torch.rand(4, 2, 1, 28, 28)
    with torch.no_grad():
        z0, z1 = m.ae.encode(x[:, 0]), m.ae.encode(x[:, 1])
        state = m.initial_state(x, 0.1)
        assert torch.allclose(state, torch.cat([z0, (z1 - z0) / 0.1], -1), atol=1e-5)
        full = m.latent_path(x, 0.1, torch.tensor([0.0, 0.1, 0.2, 0.3]))
        part = m.latent_path(x, 0.1, torch.tensor([0.2, 0.3]))     # irregular request, same solution
    assert torch.allclose(full[:, 2:], part, atol=1e-5)
    f = SecondOrderField(3, 8)
    s = torch.randn(5, 6)
    assert torch.equal(f(0.0, s)[:, :3], s[:, 3:])                  # dz/dt = v

def test_moving_mnist_standard_generator():
    digits, labels = mnist_digits("train")
    test_digits, test_labels = mnist_digits("test")
    assert digits.shape == (4000, 28, 28) and test_digits.shape == (1000, 28, 28)
    assert torch.bincount(test_labels).tolist() == [100] * 10
    # held-out digits are different images
    assert torch.cdist(test_digits[:50].flatten(1), digits.flatten(1)).min() > 0
    v = moving_mnist(digits, 16, 40, seed=0)
    assert v.shape == (16, 40, 1, 64, 64) and 0 <= v.min() and v.max() <= 1
    mass = v.sum((-1, -2, -3))
    assert torch.allclose(mass, mass[:, :1].expand_as(mass), rtol=1e-5)      # the digit never leaves the frame
    # centre of mass moves about 3.6 px per frame, except at bounces
    speed = centre_of_mass(v).diff(dim=1).norm(dim=-1)
    assert speed.median().item() == pytest.approx(3.6, abs=0.5)
    # a second digit is drawn after the first and combined by maximum: same seed, same first digit underneath
    one, two = moving_mnist(digits, 4, 3, n_digits=1, seed=9), moving_mnist(digits, 4, 3, n_digits=2, seed=9)
    assert (two >= one).all() and (two.sum((-1, -2, -3)) > one.sum((-1, -2, -3))).all() and two.max() <= 1

def test_moving_mnist_state_redraws_the_videos():
    digits, _ = mnist_digits("test")
    for n_digits in (1, 2):
        v, which, corners = moving_mnist(digits, 8, 30, n_digits, seed=4, return_state=True)
        assert torch.equal(v, moving_mnist(digits, 8, 30, n_digits, seed=4))          # the state changes nothing
        assert which.shape == (8, n_digits) and corners.shape == (8, 30, n_digits, 2) and corners.dtype == torch.long
        assert torch.equal(draw_digits(digits[which], corners), v)
        assert corners.min() >= 0 and corners.max() <= 36
        step = corners.diff(dim=1).float().norm(dim=-1)                                 # 3.6 px, give or take the rounding
        assert step.median().item() == pytest.approx(3.6, abs=0.8) and step.max() <= 3.6 + 2 ** 0.5 + 1e-4

def test_two_frame_oracle_is_exact_when_nothing_moves_and_close_when_things_do():
    digits, _ = mnist_digits("test")
    # a digit that does not move: two frames say everything, both forecasts are the truth
    v, which, corners = moving_mnist(digits, 4, 8, seed=1, step=0.0, return_state=True)
    sharp, mean = two_frame_oracle(digits[which], corners[:, :2], 6, step=0.0, samples=500)
    assert torch.equal(sharp, v[:, 2:]) and torch.allclose(mean, v[:, 2:], atol=1e-5)
    # moving digits: the sharp forecast starts within a pixel, the mean frame keeps all the ink and beats black in MSE
    v, which, corners = moving_mnist(digits, 32, 12, seed=3, return_state=True)
    sharp, mean = two_frame_oracle(digits[which], corners[:, :2], 10, samples=20_000)
    err = (centre_of_mass(sharp) - centre_of_mass(v[:, 2:])).norm(dim=-1).mean(0)
    assert err[0] < 1.0 and err[-1] > err[0]                                             # doubt grows with the horizon
    assert (centre_of_mass(sharp) - centre_of_mass(mean)).abs().max() <= 0.5 + 1e-3                            # mean corner, and it rounded
    assert torch.allclose(mean.sum((-1, -2, -3)), v[:, :1].sum((-1, -2, -3)).expand(-1, 10), rtol=1e-4)
    mse = lambda p: ((p - v[:, 2:]) ** 2).mean().item()
    assert mse(mean) < 0.75 * mse(torch.zeros_like(mean)) and mse(mean) < mse(sharp)
    with pytest.raises(ValueError, match="no sample"):
        two_frame_oracle(digits[:1, None], torch.tensor([[[[0, 0]], [[20, 20]]]]), 3)     # 28 px in one frame: not this generator
    with pytest.raises(ValueError, match="corners"):
        two_frame_oracle(digits[which], corners[:, :3], 3)

def test_disentangled_model_shapes_swap_and_training_step():
    torch.manual_seed(0)
    m = DisentangledODE(n_in=2, latent_dim=3, appearance_dim=4, width=4, hidden=16, field_width=8)
    x = torch.rand(3, 2, 1, 64, 64)
    a, state0 = m.encode(x)
    assert a.shape == (3, 4) and state0.shape == (3, 6)
    t = torch.tensor([1.0, 2.0, 3.5])
    out = m(x, t)
    assert out.shape == (3, 3, 1, 64, 64) and 0 <= out.min() and out.max() <= 1
    # the appearance enters every frame, the dynamics only through z(t)
    z = m.latent_path(state0, t)
    swapped = torch.sigmoid(m.decode_logits(z, a.flip(0)))
    assert torch.allclose(swapped[0], torch.sigmoid(m.decode_logits(z[:1], a[2:3]))[0], atol=1e-6)
    digits, _ = mnist_digits("train")
    hist = fit_disentangled(m, digits[:100], n_out=4, steps=3, batch_size=4, n_times=2, perm_weight=1.0)
    assert len(hist) == 3 and all(math.isfinite(h) for h in hist)
    with pytest.raises(ValueError, match="n_times"):
        fit_disentangled(m, digits[:100], n_out=4, steps=1, n_times=5)

def test_paste_moves_a_glyph_by_whole_pixels_and_passes_gradients_to_the_centre():
    glyph = torch.rand(2, 1, 16, 16)
    px = 2 / 32                                                     # one pixel of a 32-pixel frame in normalised units
    centres = torch.tensor([[0.0, 0.0], [3 * px, -2 * px]]).expand(2, -1, -1).clone().requires_grad_(True)
    out = paste(glyph, centres, 32, background=-5.0)
    padded = torch.nn.functional.pad(glyph - (-5.0), (8,) * 4) + (-5.0)
    assert torch.allclose(out[:, 0], padded, atol=1e-5)
    assert torch.allclose(out[:, 1], padded.roll(3, -1).roll(-2, -2), atol=1e-5)
    # moving the centre must change the loss: the position is learnable
    out.square().sum().backward()
    assert centres.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="centres"):
        paste(glyph, torch.zeros(3, 1, 2), 32)
    with pytest.raises(ValueError, match="multiple of 8"):
        GlyphDecoder(3, 4, size=64, glyph=20)

def test_glyph_decoder_keeps_what_and_where_apart_and_trains_with_t0():
    torch.manual_seed(0)
    m = DisentangledODE(n_in=2, latent_dim=3, appearance_dim=4, width=8, hidden=16, field_width=8, decoder="glyph")
    x = torch.rand(3, 2, 1, 64, 64)
    a, state0 = m.encode(x)
    z = m.latent_path(state0, torch.tensor([0.0, 1.0, 2.0]))
    frames = torch.sigmoid(m.decode_logits(z, a))
    # every frame of a sequence shows the same glyph, translated and kept inside the frame: the total mass barely changes
    # over time (bilinear resampling is the only source of change)
    mass = frames.sum((-1, -2, -3))
    assert torch.allclose(mass, mass[:, :1].expand_as(mass), rtol=0.05)
    # the appearance decides what is drawn: sequence 0's path with sequence 2's appearance is sequence 2's glyph on path 0
    swapped = torch.sigmoid(m.decode_logits(z, a.flip(0)))
    assert torch.allclose(swapped[0], torch.sigmoid(m.decoder(z[:1], a[2:3]))[0], atol=1e-6)
    assert not torch.allclose(swapped[0], frames[0])
    digits, _ = mnist_digits("train")
    hist = fit_disentangled(m, digits[:100], n_out=4, steps=3, batch_size=4, n_times=2, include_t0=True)
    assert len(hist) == 3 and all(math.isfinite(h) for h in hist)

def test_moving_mnist_corners_follow_an_independently_written_bounce():
    "The generator's path against a plain-Python one from the same random draws: move, clamp to [0, lim], reverse what hit."
    digits = torch.zeros(3, 28, 28); digits[:, 10:18, 10:18] = 1
    size, step, T = 64, 3.6, 60
    _, which, corners = moving_mnist(digits, 5, T, size=size, step=step, seed=11, return_state=True)
    g = torch.Generator().manual_seed(11)
    torch.testing.assert_close(which[:, 0], torch.randint(len(digits), (5,), generator=g))
    lim = size - 28
    pos0, angle = torch.rand(5, 2, generator=g) * lim, torch.rand(5, generator=g) * 2 * math.pi
    for b in range(5):
        x, y = pos0[b].tolist()
        vx, vy = step * math.cos(angle[b].item()), step * math.sin(angle[b].item())
        for t in range(T):
            assert corners[b, t, 0].tolist() == [round(x), round(y)], (b, t)
            x, y = x + vx, y + vy
            if x < 0 or x > lim: x, vx = min(max(x, 0), lim), -vx
            if y < 0 or y > lim: y, vy = min(max(y, 0), lim), -vy
    travelled = corners.diff(dim=1).float().norm(dim=-1).sum(1)
    assert (travelled > 0.8 * step * (T - 1)).all()           # nothing stalls at a wall: the digits keep moving
