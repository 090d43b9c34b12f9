"""Bad input at the public doors: NaN, 0..255 bytes, 0..255 floats, empty batches, zero-length horizons and float
labels are refused with the error class and a phrase that says what was expected; float64 is converted."""
import pytest, torch
from lvd import autoencoder, core, disentangled, dmd, dvae, hamiltonian, hamiltonian_vae, judges, koopman, latent_ode, metrics, ode, video

g = torch.Generator().manual_seed(0)
def frames(*shape): return torch.rand(*shape, generator=g)

def nan(x): x = x.clone(); x.reshape(-1)[0] = float("nan"); return x

# name -> (call on one frames tensor, a valid frames tensor)
DOORS = {
    "check_frames": (core.check_frames, frames(2, 3, 1, 8, 8)),
    "ConvAutoencoder.encode": (autoencoder.ConvAutoencoder(2, 8, width=4, hidden=8).encode, frames(2, 1, 8, 8)),
    "reconstruct": (lambda v: autoencoder.reconstruct(autoencoder.ConvAutoencoder(2, 8, width=4, hidden=8), v), frames(2, 3, 1, 8, 8)),
    "fit_autoencoder": (lambda v: autoencoder.fit_autoencoder(autoencoder.ConvAutoencoder(2, 8, width=4, hidden=8), v, 1, batch_size=2), frames(2, 3, 1, 8, 8)),
    "LatentODE.forward": (lambda v: latent_ode.LatentODE(2, 8, width=4, hidden=8, field_width=8, step_size=0.05)(v, 0.1, torch.tensor([0.0, 0.1])), frames(2, 2, 1, 8, 8)),
    "DisentangledODE.forward": (lambda v: disentangled.DisentangledODE(n_in=2, latent_dim=2, appearance_dim=3, size=16, width=4, hidden=8, field_width=8)(v, torch.tensor([1.0])), frames(2, 2, 1, 16, 16)),
    "KoopmanAE.encode_frames": (koopman.KoopmanAE(2, size=8).encode_frames, frames(2, 1, 8, 8)),
    "KoopmanAE.encode": (koopman.KoopmanAE(2, size=8).encode, frames(2, 3, 1, 8, 8)),
    "fit_koopman": (lambda v: koopman.fit_koopman(koopman.KoopmanAE(2, size=8), v, 1, horizon=2, batch=2), frames(2, 4, 1, 8, 8)),
    "DynamicVAE.loss": (dvae.DynamicVAE(n=2, size=8, width=4).loss, frames(2, 2, 1, 8, 8)),
    "FrameVAE.encode": (dvae.FrameVAE(n=2, size=8, width=4).encode, frames(2, 1, 8, 8)),
    "FrameClassifier.forward": (judges.FrameClassifier(3, 1, size=8, width=4, n_features=8), frames(2, 1, 8, 8)),
    "HamiltonianVAE.loss": (lambda v: hamiltonian_vae.HamiltonianVAE(n_actions=3, d=2, content_dim=4, size=8, width=4, features=8, window=2).loss(v, torch.tensor([0, 2])), frames(2, 4, 3, 8, 8)),
    "frame_psnr": (lambda v: metrics.frame_psnr(frames(*v.shape).to(v.dtype) if not v.is_floating_point() else v, frames(*v.shape)), frames(2, 3, 1, 8, 8)),
    "frame_ssim (truth)": (lambda v: metrics.frame_ssim(frames(*v.shape), v), frames(2, 3, 1, 16, 16)),
    "sequence_scores (truth)": (lambda v: metrics.sequence_scores(frames(*v.shape), v), frames(2, 3, 1, 16, 16)),
}
RANGE_CHECKED = set(DOORS) - {"FrameClassifier.forward", "frame_psnr"}   # a judge and a prediction may leave [0, 1]

@pytest.mark.parametrize("door", DOORS)
def test_valid_and_float64_frames_pass(door):
    call, x = DOORS[door]
    call(x); call(x.double())   # float64 is converted, not refused

@pytest.mark.parametrize("door", DOORS)
def test_nan_frames_are_refused(door):
    call, x = DOORS[door]
    with pytest.raises(ValueError, match="expected finite values"): call(nan(x))

@pytest.mark.parametrize("door", DOORS)
def test_byte_frames_are_refused_with_a_hint(door):
    call, x = DOORS[door]
    with pytest.raises(TypeError, match="divide by 255.0"): call((x * 255).to(torch.uint8))

@pytest.mark.parametrize("door", sorted(RANGE_CHECKED))
def test_0_to_255_float_frames_are_refused(door):
    call, x = DOORS[door]
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"): call(x * 255)

@pytest.mark.parametrize("door", DOORS)
def test_empty_batches_are_refused(door):
    call, x = DOORS[door]
    with pytest.raises(ValueError, match="empty axis|at least one"): call(x[:0])

def test_zero_length_horizons_and_times():
    with pytest.raises(ValueError, match="at least one time"): ode.NeuralODE(2, 8).rollout(torch.zeros(2, 2), torch.tensor([]))
    m = disentangled.DisentangledODE(n_in=2, latent_dim=2, appearance_dim=3, size=16, width=4, hidden=8, field_width=8)
    with pytest.raises(ValueError, match="at least one time"): video.predict(m, frames(2, 3, 1, 16, 16), 2, torch.tensor([]))
    d = dmd.DMD(rank=2).fit(torch.rand(5, 6, generator=g).double())
    with pytest.raises(ValueError, match="steps >= 1"): d.forecast(torch.rand(1, 5).double(), 0)
    with pytest.raises(TypeError, match="whole number"): d.forecast(torch.rand(1, 5).double(), 2.5)

def test_nan_states_and_latents():
    with pytest.raises(ValueError, match="expected finite values in latents"): autoencoder.ConvAutoencoder(2, 8, width=4, hidden=8).decode(nan(torch.zeros(2, 2)))
    op = hamiltonian.HamiltonianOperator(1, 1)
    with pytest.raises(ValueError, match="expected finite values in state"): op.rollout(nan(torch.zeros(2, 2)), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="expected finite values in state"): op.energy(nan(torch.zeros(2, 2)))
    with pytest.raises(ValueError, match="expected finite values in M"): hamiltonian.flow_operator(torch.tensor([[float("nan"), 0.0], [0.0, 1.0]]))
    d = dmd.DMD(rank=2).fit(torch.rand(5, 6, generator=g).double())
    with pytest.raises(ValueError, match="expected finite values in x0"): d.forecast(nan(torch.rand(1, 5).double()), 2)
    with pytest.raises(ValueError, match="expected finite values in pred"): metrics.mse_per_step(nan(frames(2, 3, 4)), frames(2, 3, 4))

def test_float_labels_are_refused():
    hv = hamiltonian_vae.HamiltonianVAE(n_actions=3, d=2, content_dim=4, size=8, width=4, features=8, window=2)
    with pytest.raises(TypeError, match="expected integer action"): hv.loss(frames(2, 4, 3, 8, 8), torch.tensor([0.0, 1.7]))
    with pytest.raises(ValueError, match=r"action in \[0, 3\)"): hv.loss(frames(2, 4, 3, 8, 8), torch.tensor([0, 3]))
    clf = judges.FrameClassifier(3, 1, size=8, width=4, n_features=8)
    with pytest.raises(TypeError, match="expected integer labels"): judges.fit_classifier(clf, frames(4, 1, 8, 8), torch.tensor([0.0, 1.0, 2.0, 1.5]), 1)
    with pytest.raises(ValueError, match=r"labels in \[0, 3\)"): judges.fit_classifier(clf, frames(4, 1, 8, 8), torch.tensor([0, 1, 2, 5]), 1)
