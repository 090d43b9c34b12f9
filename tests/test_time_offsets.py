"""Where time starts: forecasts, rollouts and operators at offset 0 and 1, checked by value (an off-by-one in a
time grid passes every shape test and fails these)."""
import torch
from lvd.disentangled import DisentangledODE
from lvd.video import predict
from lvd.hamiltonian_vae import HamiltonianVAE, image_to_sequence
from lvd.koopman import KoopmanAE

def test_forecast_frame_k_is_the_model_at_time_k():
    torch.manual_seed(0)
    m = DisentangledODE(n_in=2, latent_dim=2, appearance_dim=3, size=16, width=4, hidden=8, field_width=8).eval()
    videos = torch.rand(3, 6, 1, 16, 16)
    out = predict(m, videos, 2, torch.arange(1.0, 5.0))
    with torch.no_grad():
        for k in (1, 4):   # frame k-1 of the forecast is k frame intervals after the last input frame
            torch.testing.assert_close(out[:, k - 1], m(videos[:, :2], torch.tensor([float(k)]))[:, 0])
        assert not torch.allclose(out[:, 0], m(videos[:, :2], torch.tensor([0.0]))[:, 0])

def test_hamiltonian_rollout_and_image_to_sequence_start_at_offset_zero():
    torch.manual_seed(0)
    m = HamiltonianVAE(n_actions=3, d=2, content_dim=4, size=8, width=4, features=8, window=2).eval()
    state = torch.randn(2, 3 * 4)
    torch.testing.assert_close(m.propagate(state, torch.tensor([0]))[:, 0], state)
    first, a = torch.rand(2, 3, 8, 8), torch.tensor([0, 2])
    video = image_to_sequence(m, first, a, 3)
    with torch.no_grad():
        z, _, s, _ = m.posterior(first[:, None], a)
        start = m.render(z, m.place(s, a)[:, None]).clamp(0, 1)[:, 0]
        one = m.render(z, m.propagate(m.place(s, a), torch.tensor([1]))).clamp(0, 1)[:, 0]
    torch.testing.assert_close(video[:, 0], start)          # frame 0 is the encoded image's own state
    torch.testing.assert_close(video[:, 1], one)            # frame 1 is one step of exp(H)

def test_koopman_operator_at_zero_and_one_step():
    torch.manual_seed(0)
    m = KoopmanAE(2, size=8)
    z = torch.randn(3, 4)
    out = m.K(z, torch.tensor([0.0, 1.0, 2.0]))
    torch.testing.assert_close(out[:, 0], z)                                      # m = 0: identity
    torch.testing.assert_close(out[:, 2], m.K(m.K(z, torch.tensor([1.0]))[:, 0], torch.tensor([1.0]))[:, 0])   # K^2 = K K
