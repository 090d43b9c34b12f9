"""Value tests of small public functions, each written after a mutation run (`mutmut run`, see pyproject.toml) showed
that a one-line change to it passed every test: an exponent, a sign, a reduction axis, a boundary of an input check."""
import json, math
from pathlib import Path
import pytest, torch
from torch import nn
from lvd.autoencoder import affine_r2
from lvd.core import load_checkpoint, save_checkpoint, write_results
from lvd.dmd import optimal_rank
from lvd.hamiltonian import is_hamiltonian, symplectic_form, symplecticity_error
from lvd.judges import order_score
from lvd.metrics import frechet_distance

def test_affine_r2_by_hand():
    "R^2 of the best affine map z -> target: 1 - residual sum of squares / total sum of squares about the mean."
    z = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    target = torch.tensor([[1.0], [2.0], [2.0], [5.0]])        # least squares: 0.7 + 1.2 z (hand-solved), mean 2.5
    fitted = 0.7 + 1.2 * z
    want = 1 - ((fitted - target) ** 2).sum() / ((target - 2.5) ** 2).sum()     # 1 - 1.8 / 9 = 0.8
    assert want.item() == pytest.approx(0.8, rel=1e-6)
    assert affine_r2(z, target) == pytest.approx(0.8, rel=1e-9)
    shifted = target + 100.0                                    # an offset is affine: the same R^2
    assert affine_r2(z, shifted) == pytest.approx(0.8, rel=1e-9)
    second = torch.tensor([[0.0], [1.0], [0.0], [1.0]])        # fit 0.2 + 0.2 z: residual 0.8, total 1 (R^2 0.2 alone)
    pooled = 1 - (1.8 + 0.8) / (9 + 1)                         # several targets: one residual over all of them = 0.74
    assert affine_r2(z, torch.cat([target, second], 1)) == pytest.approx(pooled, rel=1e-9)

def test_optimal_rank_uses_the_gavish_donoho_polynomial():
    "omega(beta) = 0.56 b^3 - 0.95 b^2 + 1.82 b + 1.43; singular values above omega * median count, at least one."
    for shape in [(50, 50), (20, 80), (80, 20)]:
        n, m = sorted(shape); b = n / m
        omega = 0.56 * b ** 3 - 0.95 * b ** 2 + 1.82 * b + 1.43
        s = torch.tensor([omega * 1.001, omega * 0.999, 1.0, 1.0, 1.0, 0.5, 0.2])   # median 1.0
        assert optimal_rank(s, shape) == 1
        assert optimal_rank(torch.tensor([omega * 1.01, omega * 1.001, 1.0, 1.0, 0.3]), shape) == 2
        assert optimal_rank(torch.tensor([omega, omega, 1.0, 1.0, 1.0]), shape) == 1   # on the threshold: not above it
    assert optimal_rank(torch.ones(5), (10, 10)) == 1                               # nothing above: keep one

def test_is_hamiltonian_on_batches_and_shapes():
    J = symplectic_form(2, torch.float64)
    S = torch.randn(2, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    H_good = J @ (S + S.transpose(-1, -2))                       # J times a symmetric matrix: Hamiltonian
    H_bad = H_good.clone(); H_bad[1, 0, 1] += 1.0
    assert is_hamiltonian(H_good) and is_hamiltonian(H_good[0])
    assert not is_hamiltonian(H_bad) and not is_hamiltonian(H_bad[1])
    H_near = H_good.clone(); H_near[0, 0, 1] += 1e-3                      # off by 1e-3 in one entry
    assert is_hamiltonian(H_near[0], atol=1e-2) and not is_hamiltonian(H_near[0], atol=1e-4)
    for bad in [torch.zeros(4), torch.zeros(4, 3), torch.zeros(2, 3, 4), torch.zeros(3, 3)]:
        with pytest.raises(ValueError, match="expected H of shape"): is_hamiltonian(bad)

def test_symplecticity_error_by_value():
    J = symplectic_form(1, torch.float64)
    scale = torch.diag(torch.tensor([2.0, 0.5], dtype=torch.float64))             # area-preserving: symplectic
    stretch = torch.diag(torch.tensor([2.0, 2.0], dtype=torch.float64))           # Phi^T J Phi = 4 J: error 3
    errs = symplecticity_error(torch.stack([scale, stretch, J]))
    assert errs.tolist() == pytest.approx([0.0, 3.0, 0.0], abs=1e-12)
    with pytest.raises(ValueError, match="expected Phi of shape"): symplecticity_error(torch.zeros(3, 3))

def test_order_score_per_step():
    pred = torch.tensor([[0, 1, 2, 2], [4, 0, 1, 3], [1, 2, 3, 4]])               # 3 sequences, 3 steps
    assert order_score(pred).tolist() == pytest.approx([1.0, 1.0, 1 / 3])         # one value per step, not per sequence
    assert order_score(pred[:, :2]).tolist() == [1.0]                              # two frames: one step
    assert order_score(torch.tensor([[2, 0]]), cycle=3).tolist() == [1.0]          # wraps around the cycle
    with pytest.raises(ValueError, match="two frames"): order_score(pred[:, :1])
    with pytest.raises(ValueError, match="at least one sequence"): order_score(pred[:0])

def test_frechet_distance_accepts_two_samples_and_refuses_bad_feature_sets():
    a, b = torch.tensor([[0.0, 0.0], [2.0, 0.0]]), torch.tensor([[1.0, 1.0], [1.0, 3.0]])
    # means (1, 0) and (1, 2): |mu_a - mu_b|^2 = 4; covariances diag(2, 0) and diag(0, 2): trace 4, cross term 0
    assert frechet_distance(a, b) == pytest.approx(8.0, abs=1e-6)
    for x, y in [(a[:1], b), (a, b[:1]), (a[0], b), (a, b[:, :1]), (a, b[:, :1].expand(2, 2)[None])]:
        with pytest.raises(ValueError): frechet_distance(x, y)
    for nan_in in ("a", "b"):
        x, y = a.clone(), b.clone(); (x if nan_in == "a" else y)[0, 0] = float("nan")
        with pytest.raises(ValueError, match="NaN"): frechet_distance(x, y)

def test_write_results_record_and_printout(tmp_path, capsys):
    rec = write_results(tmp_path, "99_x", "cpu", torch.device("cpu"), {"mse": 0.1234567890123, "n": 3}, paper={"mse": 0.1},
                        timings={"train": 12.345}, note="seed 0")
    on_disk = json.loads((tmp_path / "99_x.json").read_text())
    assert on_disk == rec == dict(chapter="99_x", profile="cpu", device="cpu", metrics={"mse": 0.123456789, "n": 3},
                                  paper={"mse": 0.1}, timings={"train": 12.345}, note="seed 0")
    assert isinstance(rec["metrics"]["n"], int)                  # integers stay integers
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["mse:", "0.123457", "(paper:", "0.1)"] and out[1].split() == ["n:", "3"]
    assert out[2].split() == ["train:", "12.3", "s"]

def test_load_checkpoint_checks_keys_and_class(tmp_path):
    m = nn.Linear(2, 3)
    save_checkpoint(tmp_path / "m.pt", m, dict(in_features=2, out_features=3))
    raw = torch.load(tmp_path / "m.pt", weights_only=True)
    assert raw["class"] == "Linear" and set(raw) >= {"state_dict", "config", "extra"}
    torch.save({k: v for k, v in raw.items() if k != "extra"}, tmp_path / "cut.pt")      # a key missing
    with pytest.raises(ValueError, match="cut.pt"): load_checkpoint(tmp_path / "cut.pt", nn.Linear)
    torch.save([raw], tmp_path / "list.pt")                                              # not a dict at all
    with pytest.raises(ValueError, match="list.pt"): load_checkpoint(tmp_path / "list.pt", nn.Linear)
    with pytest.raises(ValueError, match="Linear"): load_checkpoint(tmp_path / "m.pt", nn.Bilinear)
    with pytest.raises(FileNotFoundError, match="no file"): load_checkpoint(tmp_path / "none.pt", nn.Linear)

@pytest.mark.parametrize("make", ["salt_pepper_mask", "rectangle_mask"])
def test_mask_shapes_are_checked(make):
    import lvd.datasets as d
    f = getattr(d, make)
    with pytest.raises(TypeError, match="whole number"): f((2, 4.0, 4))
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\)"): f((3,))
    with pytest.raises(ValueError, match=">= 1"): f((2, 0, 4))
    m = f((2, 3, 8, 6), 0.5, generator=torch.Generator().manual_seed(0))
    assert m.shape == (2, 3, 8, 6) and set(m.unique().tolist()) <= {0.0, 1.0}

def test_salt_pepper_keeps_the_asked_fraction_and_rectangle_hides_one_block():
    from lvd.datasets import rectangle_mask, salt_pepper_mask
    m = salt_pepper_mask((100, 50, 50), 0.3, generator=torch.Generator().manual_seed(0))
    assert m.mean().item() == pytest.approx(0.3, abs=0.005)
    r = rectangle_mask((4, 20, 20), 0.25, generator=torch.Generator().manual_seed(1))
    for frame in r:                                                   # a 10 x 10 block of zeros in each frame
        rows, cols = (frame == 0).nonzero(as_tuple=True)
        assert (frame == 0).sum() == 100 and rows.max() - rows.min() == 9 and cols.max() - cols.min() == 9

# --- public functions that had no value test (audit of every module's __all__) ---
import os, random
import numpy as np
import torch.nn.functional as F
from lvd.core import by_profile, get_device, progress, resolve_profile, set_seed
from lvd.autoencoder import ConvAutoencoder, pca, reconstruct
from lvd.dvae import DynamicVAE, synthesize_video
from lvd.judges import FrameClassifier, as_clip_image, fit_classifier, judge, judge_probabilities
from lvd.koopman import KoopmanAE, block_spectrum
from lvd.metrics import centre_of_mass
from lvd.ode import extrapolation_report
from lvd.sprites import cache_folder
from lvd.video import CopyLast, model_device

def test_by_profile_resolve_profile_and_get_device():
    cfg = dict(quick=dict(n=1), cpu=dict(n=2), full=dict(n=3))
    assert [by_profile(p, **cfg).n for p in ("quick", "cpu", "full")] == [1, 2, 3]
    assert resolve_profile("auto") == ("full" if torch.cuda.is_available() else "cpu") and resolve_profile("quick") == "quick"
    assert get_device("cpu") == torch.device("cpu")
    assert get_device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")

def test_set_seed_seeds_python_numpy_and_torch():
    draw = lambda: (random.random(), float(np.random.rand()), torch.rand(1).item())
    set_seed(3); a = draw(); set_seed(3); b = draw(); set_seed(4); c = draw()
    assert a == b and all(x != y for x, y in zip(a, c))

def test_progress_yields_everything_and_prints_one_plain_line(monkeypatch, capsys):
    monkeypatch.setenv("LVD_PLAIN_PROGRESS", "1")
    assert list(progress(range(3), desc="demo")) == [0, 1, 2]
    captured = capsys.readouterr()
    lines = [l for l in (captured.out + captured.err).splitlines() if l.strip()]
    assert len(lines) == 1 and "demo" in lines[0] and "3/3" in lines[0]

def test_reconstruct_and_pca():
    torch.manual_seed(0)
    m = ConvAutoencoder(latent_dim=2, size=16, width=4, hidden=8).eval()
    v = torch.rand(2, 3, 1, 16, 16)
    with torch.no_grad(): raw = m.decode(m.encode(v.flatten(0, 1))).view(v.shape)
    assert torch.allclose(reconstruct(m, v, clamp=False), raw, atol=1e-6)
    assert torch.allclose(reconstruct(m, v), raw.clamp(0, 1), atol=1e-6) and not torch.equal(raw, raw.clamp(0, 1))
    z = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.1], [0.0, -0.1]]) + torch.tensor([5.0, -2.0])
    proj, basis = pca(z, 1)
    assert torch.allclose(proj.abs(), torch.tensor([[1.0], [1.0], [0.0], [0.0]]), atol=1e-6)
    assert torch.allclose(basis[0], torch.tensor([5.0, -2.0]))                     # centred on the mean
    assert torch.equal(pca(z, 1, basis)[0], proj)                                   # the same axes again
    padded, _ = pca(z, 3)
    assert padded.shape == (4, 3) and torch.equal(padded[:, 2], torch.zeros(4))
    assert torch.allclose(padded[:, 1].abs(), torch.tensor([0.0, 0.0, 0.1, 0.1]), atol=1e-6)

def test_synthesize_video_stacks_the_seeded_stream():
    torch.manual_seed(0)
    m = DynamicVAE(n=3, size=16, width=4).eval()
    h0 = m.start(torch.rand(2, m.window, 1, 16, 16))
    with torch.no_grad():
        want = torch.stack(list(m.synthesize(h0, 4, torch.Generator().manual_seed(5))), 1)
        got = synthesize_video(m, h0, 4, seed=5)
    assert torch.equal(got, want) and not torch.equal(got, synthesize_video(m, h0, 4, seed=6))

def test_judge_chunks_and_probabilities():
    torch.manual_seed(0)
    m = FrameClassifier(4, channels=1, size=16, width=4, n_features=8).eval()
    x = torch.rand(7, 1, 16, 16)
    feats, classes = judge(m, x, batch_size=3)
    with torch.no_grad(): logits = m(x)
    assert torch.equal(classes, logits.argmax(1)) and feats.shape[0] == 7
    assert torch.allclose(judge(m, x, batch_size=512)[0], feats, atol=1e-6)
    clips = torch.rand(5, 2, 1, 8, 8)                       # a judge of clips reads as_clip_image(clips)
    jm = FrameClassifier(3, channels=as_clip_image(clips).shape[1], size=as_clip_image(clips).shape[-1], width=4, n_features=8).eval()
    with torch.no_grad(): want = jm(as_clip_image(clips)).softmax(1)
    for bs in (2, 256):
        assert torch.allclose(judge_probabilities(jm, clips, batch_size=bs), want, atol=1e-6)

def test_fit_classifier_first_loss_is_the_cross_entropy_of_its_batch():
    torch.manual_seed(0)
    m = FrameClassifier(3, size=16, width=4, n_features=8)
    frames, labels = torch.rand(10, 1, 16, 16), torch.arange(10) % 3
    state = {k: v.clone() for k, v in m.state_dict().items()}
    got = fit_classifier(m, frames, labels, 1, batch_size=4, shift=2, seed=7)[0]
    m.load_state_dict(state); m.train()
    g = torch.Generator().manual_seed(7)
    i = torch.randint(10, (4,), generator=g)
    dy, dx = torch.randint(-2, 3, (2,), generator=g).tolist()
    with torch.no_grad(): want = F.cross_entropy(m(torch.roll(frames[i], (dy, dx), (2, 3))), labels[i]).item()
    assert got == pytest.approx(want, rel=1e-6)

def test_block_spectrum_reads_the_blocks():
    torch.manual_seed(0)
    m = KoopmanAE(n_blocks=2, size=16).eval()
    with torch.no_grad(): m.K.mu.copy_(torch.tensor([-0.1, 0.2])); m.K.omega.copy_(torch.tensor([-0.5, 1.0]))
    frames = torch.rand(6, 1, 16, 16)
    spec = block_spectrum(m, frames)
    assert torch.allclose(spec["mu"], torch.tensor([-0.1, 0.2])) and torch.allclose(spec["omega"], torch.tensor([0.5, 1.0]))
    with torch.no_grad(): z = m.encode_frames(frames).view(6, 2, 2)
    energy = z.pow(2).sum(-1).mean(0)
    assert torch.allclose(spec["share"], energy / energy.sum(), atol=1e-6)

def test_extrapolation_report_by_hand():
    truth = torch.arange(10.0).view(5, 2)
    pred = truth.clone(); pred[3:] += 0.1
    rep = extrapolation_report(truth, pred, 3)
    assert rep["train_mse"] == 0 and rep["test_mse"] == pytest.approx(0.01, rel=1e-5)
    assert rep["test_rel"] == pytest.approx(0.01 / truth.var(0).mean().item(), rel=1e-5)      # variance 10 per coordinate
    with pytest.raises(ValueError, match="n_train"): extrapolation_report(truth, pred, 5)

def test_cache_folder_model_device_and_centre_of_mass(monkeypatch, tmp_path):
    assert cache_folder(tmp_path / "c") == tmp_path / "c"
    monkeypatch.setenv("LVD_CACHE", str(tmp_path / "env"))
    assert cache_folder() == tmp_path / "env"
    monkeypatch.delenv("LVD_CACHE")
    assert cache_folder() == __import__("pathlib").Path("~/.cache/lvd").expanduser()
    assert model_device(CopyLast()) == torch.device("cpu")
    assert model_device(ConvAutoencoder(latent_dim=2, size=16, width=4, hidden=8)) == torch.device("cpu")
    class OnMeta: device = "meta"
    assert model_device(OnMeta()) == torch.device("meta")
    frame = torch.zeros(1, 1, 8, 8); frame[0, 0, 2, 5] = 1.0                   # row 2, column 5
    assert centre_of_mass(frame).tolist() == [[5.0, 2.0]]
    frame[0, 0, 6, 1] = 3.0                                                      # weighted by intensity
    assert centre_of_mass(frame)[0].tolist() == pytest.approx([(5 + 3 * 1) / 4, (2 + 3 * 6) / 4])

# --- the Dynamic VAE's training and its texture baseline, after mutants survived there ---
from lvd.dvae import LinearDynamicTexture, fit_dvae, fit_var

@pytest.mark.parametrize("masked", [False, True])
def test_fit_dvae_first_step_is_the_models_loss_on_the_first_sample(masked):
    torch.manual_seed(0)
    m = DynamicVAE(n=3, size=16, width=4, masked=masked)
    frames = torch.rand(4, 2, 1, 16, 16)
    mask = (torch.rand(4, 2, 1, 16, 16, generator=torch.Generator().manual_seed(1)) < 0.6).float()
    calls = []
    def sample(step):
        calls.append(step)
        return (frames, mask) if masked else frames
    state = {k: v.clone() for k, v in m.state_dict().items()}
    torch.manual_seed(3); hist = fit_dvae(m, sample, 1, sigma2=5.0, lam=7.0)
    m.load_state_dict(state); m.train()
    torch.manual_seed(3)
    with torch.no_grad(): want = m.loss(frames, mask if masked else None, 5.0, 7.0)
    assert calls == [0]
    for k in ("total", "reconstruction", "kl", "stationarity"):
        assert hist[k][0] == pytest.approx(want[k].item(), rel=1e-6), k
    assert hist["total"][0] == pytest.approx(hist["reconstruction"][0] + hist["kl"][0] + 7.0 * hist["stationarity"][0], rel=1e-5)

def test_masked_squared_error_counts_observed_pixels_only():
    from lvd.dvae import _masked_sse
    pred, target = torch.full((2, 1, 1, 2, 2), 0.5), torch.zeros(2, 1, 1, 2, 2)
    mask = torch.tensor([1.0, 0.0, 1.0, 0.0]).view(1, 1, 1, 2, 2).expand(2, -1, -1, -1, -1)
    assert _masked_sse(pred, target, None).tolist() == [4.0, 4.0]      # 4 pixels x 4 x 0.25 (frames on [-1, 1])
    assert _masked_sse(pred, target, mask).tolist() == [2.0, 2.0]

def test_fit_var_uses_the_unbiased_residual_covariance():
    h_prev = torch.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=torch.float64)
    resid = torch.tensor([[0.3], [-0.1], [-0.4], [0.2]], dtype=torch.float64)
    h_next = 0.5 * h_prev + resid
    A, B = fit_var(h_prev, h_next, max_gain=None)
    a = (h_prev * h_next).sum() / (h_prev ** 2).sum()                          # least squares without intercept
    r = h_next - a * h_prev
    assert A.item() == pytest.approx(a.item(), rel=1e-6)                       # returned in float32
    assert (B @ B.T).item() == pytest.approx(((r ** 2).sum() / 3).item(), rel=1e-5)   # divided by N - 1 = 3, not 4 or 5

def test_decoders_clamp_to_the_unit_interval():
    torch.manual_seed(0)
    m = DynamicVAE(n=3, size=16, width=4)
    h = 50 * torch.randn(4, 3)
    with torch.no_grad(): raw, out = m.decode_frames(h), m.decode(h)
    assert raw.min() < 0 and raw.max() > 1                                      # the test needs both sides to bite
    assert torch.equal(out, raw.clamp(0, 1))
    g = torch.Generator().manual_seed(0)
    videos = torch.rand(2, 10, 1, 8, 8, generator=g)
    lds = LinearDynamicTexture(n=3); lds.fit(videos)
    h = 100 * torch.randn(5, 3)
    raw, out = lds.decode_frames(h), lds.decode(h)
    assert raw.min() < 0 and raw.max() > 1 and torch.equal(out, raw.clamp(0, 1))

# --- more survivors of the mutation run ---
from lvd.dmd import DMD
from lvd.hamiltonian_vae import HamiltonianVAE
from lvd.koopman import alpha_schedule
from lvd.nets import FrameDecoder, FrameEncoder
from lvd.dvae import DynamicLayer, FrameVAE, var_rollout
from lvd.ode import NeuralODE
from torchdiffeq import odeint

def test_video_decoders_clamp_to_the_unit_interval():
    videos = torch.rand(2, 12, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    dmd = DMD.from_videos(videos, rank=4)
    snaps = 5 * torch.randn(3, 36, dtype=torch.float64)
    assert (snaps.min() < 0) and (snaps.max() > 1)
    assert torch.equal(dmd.decode(snaps), snaps.unflatten(-1, (1, 6, 6)).clamp(0, 1))
    torch.manual_seed(0)
    m = HamiltonianVAE(n_actions=2, d=2, content_dim=4, size=16, width=4, features=8, channels=1).eval()
    z, states = 30 * torch.randn(2, 4), 30 * torch.randn(2, 3, 2 * 2 * 2)
    with torch.no_grad(): raw, out = m.render(z, states), m.decode((z, states))
    assert raw.min() < 0 and raw.max() > 1 and torch.equal(out, raw.clamp(0, 1))

def test_dynamic_texture_synthesis_is_its_var_decoded():
    videos = torch.rand(3, 12, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    lds = LinearDynamicTexture(n=3); lds.fit(videos)
    start = videos[:, 0]
    got = lds.synthesize(start, 5, torch.Generator().manual_seed(4))
    want = lds.decode_frames(var_rollout(lds.encode_frames(start), lds.A, lds.B, 5, torch.Generator().manual_seed(4))).clamp(0, 1)
    assert got.shape == (3, 5, 1, 6, 6) and torch.equal(got, want)
    assert not torch.equal(got, lds.synthesize(start, 5, torch.Generator().manual_seed(5)))     # the noise is drawn

def test_hamiltonian_vae_config_rebuilds_the_same_model(tmp_path):
    kw = dict(n_actions=3, d=2, content_dim=4, size=16, width=4, features=8, window=2, kind="skew-H", alpha=0.3,
              period=None, unit_position=False, channels=1)
    m = HamiltonianVAE(**kw)
    assert m.config == kw
    save_checkpoint(tmp_path / "h.pt", m, m.config)
    back, _ = load_checkpoint(tmp_path / "h.pt", HamiltonianVAE)
    assert back.config == kw and all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), back.state_dict().values()))

def test_alpha_schedule_values():
    steps = 100                                                          # warm-up to 10, ramp to 30, then 0.5
    assert [alpha_schedule(s, steps) for s in (0, 9, 10, 20, 29, 30, 99)] == pytest.approx([1, 1, 1, 0.75, 0.525, 0.5, 0.5])
    assert alpha_schedule(20, steps, warmup=0.0, ramp=0.4, final=0.0) == pytest.approx(0.5)

def test_neural_ode_uses_its_solver():
    torch.manual_seed(0)
    m = NeuralODE(dim=2, width=8, method="euler")
    z0, t = torch.randn(3, 2), torch.linspace(0, 1, 4)
    with torch.no_grad():
        want = odeint(m.field, z0, t, method="euler").transpose(0, 1)
        assert torch.allclose(m.rollout(z0, t), want)
        assert torch.allclose(m.rollout(z0, t, method="rk4"), odeint(m.field, z0, t, method="rk4").transpose(0, 1))
        assert not torch.allclose(want, odeint(m.field, z0, t, method="rk4").transpose(0, 1))

@pytest.mark.parametrize("width", [4, 8])
def test_vae_networks_are_the_shared_encoder_and_decoder(width):
    count = lambda m: sum(p.numel() for p in m.parameters())
    n, size = 3, 16
    for masked in (False, True):
        m = DynamicVAE(n=n, size=size, width=width, masked=masked, window=2)
        assert count(m) == count(FrameEncoder(2 * (2 if masked else 1), 2 * 2 * n, size, width)) + \
            count(FrameDecoder(n, 1, size, width)) + count(DynamicLayer(n, 2))
    assert count(FrameVAE(n=n, size=size, width=width)) == count(FrameEncoder(1, 2 * n, size, width)) + count(FrameDecoder(n, 1, size, width))

# --- the last real survivors of the sampled mutation run ---
from lvd.core import setup
from lvd.video import score_forecast

def test_setup_on_the_cpu(monkeypatch, capsys):
    monkeypatch.setenv("LVD_THREADS", "1")
    threads, rng = torch.get_num_threads(), torch.get_rng_state()
    try:
        profile, dev = setup("quick", seed=4, device="cpu")
        assert (profile, dev) == ("quick", torch.device("cpu")) and torch.get_num_threads() == 1
    finally:                                                      # leave the rest of the test session as it was
        torch.set_num_threads(threads); torch.set_rng_state(rng)
    out = capsys.readouterr().out
    assert "cpu, 1 threads" in out and "seed: 4" in out and "profile: quick" in out

def test_checkpoints_take_lists_in_their_config_and_old_files_without_a_class(tmp_path):
    m = nn.Linear(2, 3)
    save_checkpoint(tmp_path / "m.pt", m, dict(in_features=2, out_features=3), sizes=[1, [2, 3]], names=("a", "b"))
    _, extra = load_checkpoint(tmp_path / "m.pt", nn.Linear)
    assert extra == {"sizes": [1, [2, 3]], "names": ["a", "b"]} or extra == {"sizes": [1, [2, 3]], "names": ("a", "b")}
    with pytest.raises(TypeError, match=r"config"):        # JSON takes a NumPy float; torch.load(weights_only=True) would not
        save_checkpoint(tmp_path / "x.pt", m, dict(in_features=2, out_features=3, scale=np.float64(0.5)))
    raw = torch.load(tmp_path / "m.pt", weights_only=True); del raw["class"]
    torch.save(raw, tmp_path / "old.pt")                          # written before checkpoints named their class
    back, _ = load_checkpoint(tmp_path / "old.pt", nn.Linear)
    assert torch.equal(back.weight, m.weight)

def test_a_mask_shape_that_is_one_number_is_refused_clearly():
    from lvd.datasets import salt_pepper_mask
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\)"): salt_pepper_mask(5)

def test_score_forecast_scores_the_frames_right_after_the_context():
    v = torch.rand(2, 9, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    s = score_forecast(v[:, 3:5], v, 3, ssim=False)                # the true frames 3 and 4, in videos of 9 frames
    assert s["model"]["mse"] == 0
    assert s["copy last"]["mse"] == pytest.approx(((v[:, 3:5] - v[:, 2:3]) ** 2).mean().item(), rel=1e-6)
    assert s["all black"]["mse"] == pytest.approx((v[:, 3:5] ** 2).mean().item(), rel=1e-6)

# --- the Sprites helpers, on a hand-made data set (no layers needed) ---
from lvd.sprites import Sprites, attribute_grid, clone_sprites
from lvd.judges import judge_labels

def _fake_sprites(characters):
    "Every character's 9 clips; each frame's pixels hold (character id mod 251) so a frame says whose it is."
    ids = torch.tensor([c for c in characters for _ in range(9)])
    frames = (ids % 251).to(torch.uint8).view(-1, 1, 1, 1, 1).expand(-1, 8, 3, 4, 4).clone()
    frames[:, 3] = 7                                               # frame 3 differs, to see the frame argument at work
    clip = torch.arange(len(ids)) % 9
    attrs = torch.stack([ids // 216, ids // 36 % 6, ids // 6 % 6, ids % 6], 1)
    return Sprites(frames, clip // 3, clip % 3, attrs, ids)

def test_judge_labels_are_the_class_and_the_four_attributes():
    data = _fake_sprites([0, 1 * 216 + 2 * 36 + 3 * 6 + 4])
    labels = judge_labels(data)
    assert labels["action"].tolist() == list(range(9)) * 2
    assert labels["skin"].tolist() == [0] * 9 + [1] * 9 and labels["pants"].tolist() == [0] * 9 + [2] * 9
    assert labels["shirt"].tolist() == [0] * 9 + [3] * 9 and labels["hair"].tolist() == [0] * 9 + [4] * 9

def test_attribute_grid_varies_one_attribute_per_row():
    base = 2 * 216 + 1 * 36 + 3 * 6 + 5
    digits = [2, 1, 3, 5]
    neighbours = {216 * d[0] + 36 * d[1] + 6 * d[2] + d[3] for a in range(4) for v in range(6)
                  for d in [digits[:a] + [v] + digits[a + 1:]]}
    data = _fake_sprites(sorted(neighbours))
    grid = attribute_grid(data, base)
    assert grid.shape == (4, 6, 3, 4, 4)
    for a in range(4):
        for v in range(6):
            d = digits[:a] + [v] + digits[a + 1:]
            assert grid[a, v, 0, 0, 0].item() * 255 == pytest.approx((216 * d[0] + 36 * d[1] + 6 * d[2] + d[3]) % 251)
    assert (attribute_grid(data, base, frame=3) * 255).round().eq(7).all()
    with pytest.raises(ValueError, match="not in this split"): attribute_grid(data.subset(slice(0, 9)), base)

def test_clone_sprites_runs_a_shallow_git_clone(tmp_path, monkeypatch):
    import subprocess
    calls = []
    def fake_run(cmd, check):
        calls.append(cmd); (Path(cmd[-1]) / "body").mkdir(parents=True)
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr("lvd.sprites.sprites_root", lambda dest: Path(dest))
    dest = tmp_path / "layers"
    assert clone_sprites(dest, url="https://example.org/s.git") == dest
    assert calls == [["git", "clone", "--quiet", "--depth", "1", "https://example.org/s.git", str(dest)]]
    assert clone_sprites(dest) == dest and len(calls) == 1                 # a clone is there: nothing to do
    other = tmp_path / "other"; other.mkdir(); (other / "x").write_text("")
    with pytest.raises(FileExistsError, match="empty"): clone_sprites(other)

# --- chapter 10: content read from another clip of the same character ---
import lvd.hamiltonian_vae as hvae
from lvd.nets import gaussian_kl
from lvd.hamiltonian_vae import other_clips, fit_hamiltonian_vae

def test_other_clips_draws_the_same_character_with_another_label():
    ch, lab = torch.tensor([5, 5, 5, 9, 9, 9]), torch.tensor([0, 1, 1, 2, 2, 0])
    for s in range(20):
        j = other_clips(ch, lab, torch.arange(6), torch.Generator().manual_seed(s))
        assert (ch[j] == ch).all() and (lab[j] != lab).all()
    assert {int(other_clips(ch, lab, [0], torch.Generator().manual_seed(s))[0]) for s in range(30)} == {1, 2}   # every candidate
    assert other_clips(ch, lab, [3, 4], torch.Generator().manual_seed(0)).tolist() == [5, 5]
    with pytest.raises(ValueError, match="character 1 has no clip with a label other than 3"):
        other_clips(torch.tensor([1, 1]), torch.tensor([3, 3]), [0])
    with pytest.raises(ValueError, match="expected labels of shape"): other_clips(ch, lab[:5], [0])

def _numbered_sprites(n_characters=2):
    "Sprites whose every pixel of frame t of video v is (10 v + t) / 255: a frame says where it came from."
    n = 9 * n_characters
    ids, clip = torch.arange(n) // 9 + 40, torch.arange(n) % 9
    value = (10 * torch.arange(n)[:, None] + torch.arange(8)).to(torch.uint8)
    frames = value.view(n, 8, 1, 1, 1).expand(n, 8, 3, 16, 16).clone()
    return Sprites(frames, clip // 3, clip % 3, torch.zeros(n, 4, dtype=torch.long), ids)

@pytest.mark.parametrize("content", ["own", "other clip"])
def test_fit_hamiltonian_vae_reads_the_content_where_it_says(monkeypatch, content):
    data, seen = _numbered_sprites(), []
    m = HamiltonianVAE(n_actions=9, d=2, content_dim=4, size=16, width=4, features=8)
    def spy(frames, action, generator=None, horizon=None, content=None, content_keep=None):
        seen.append((frames, action, content, content_keep)); return {"loss": torch.zeros((), requires_grad=True)}
    monkeypatch.setattr(m, "loss", spy)
    monkeypatch.setattr(hvae, "fit", lambda model, step_loss, steps, **kw: [step_loss(s) for s in range(steps)])
    fit_hamiltonian_vae(m, data, 12, batch_size=5, content=content)
    assert len(seen) == 12
    picked_frames, counts = set(), []
    for frames, action, c, keep in seen:
        video = (frames[:, 0, 0, 0, 0] * 255).round().long() // 10
        assert torch.equal(action, data.label9[video])
        if content == "own": assert c is None and keep is None; continue
        assert c.shape == (5, 8, 3, 16, 16) and keep.shape == (5, 8) and keep.dtype == torch.bool
        code = (c[:, :, 0, 0, 0] * 255).round().long()
        assert (data.character[code // 10] == data.character[video][:, None]).all()   # the same character
        assert (data.label9[code // 10] != data.label9[video][:, None]).all()           # another clip
        assert ((code % 10) == torch.arange(8)).all()                                    # its frames, in order
        assert keep.any(1).all()                                                         # at least one frame read
        picked_frames |= set(keep.nonzero()[:, 1].tolist()); counts += keep.sum(1).tolist()
    if content == "other clip":
        assert picked_frames == set(range(8))                                            # any frame, not always the first
        assert min(counts) <= 2 and max(counts) >= 7                                     # a random number of frames, 1 to 8
    with pytest.raises(ValueError, match="expected content 'own' or 'other clip'"): fit_hamiltonian_vae(m, data, 1, content="mine")

def test_hamiltonian_vae_loss_reads_the_content_frames_only():
    torch.manual_seed(0)
    m = HamiltonianVAE(n_actions=2, d=2, content_dim=4, size=16, width=4, features=8, channels=1)
    x, a = torch.rand(3, 8, 1, 16, 16, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1, 1])
    c = torch.rand(3, 2, 1, 16, 16, generator=torch.Generator().manual_seed(2))
    kl = lambda v, cc: m.loss(v, a, torch.Generator().manual_seed(0), content=cc)["kl_z"].item()
    z_mu, z_lv = m.encode_content(m.features(c))
    assert kl(x, c) == pytest.approx(kl(torch.rand_like(x), c), rel=1e-6)             # the video's own frames do not reach z
    assert kl(x, c) == pytest.approx(gaussian_kl(z_mu, z_lv).mean().item(), rel=1e-5)  # z from the mean of both content frames
    assert kl(x, c) != pytest.approx(kl(x, c[:, :1]), rel=1e-5)                     # and from those frames, not others
    assert kl(x, torch.zeros_like(c)) != pytest.approx(kl(x, torch.ones_like(c)), rel=1e-3)

def test_hamiltonian_vae_loss_reads_only_the_kept_content_frames():
    torch.manual_seed(0)
    m = HamiltonianVAE(n_actions=2, d=2, content_dim=4, size=16, width=4, features=8, channels=1)
    x, a = torch.rand(3, 8, 1, 16, 16, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1, 1])
    c = torch.rand(3, 5, 1, 16, 16, generator=torch.Generator().manual_seed(2))
    keep = torch.tensor([[1, 0, 0, 1, 0], [0, 0, 0, 0, 1], [1, 1, 1, 1, 1]], dtype=torch.bool)
    kl = lambda cc, kk=None: m.loss(x, a, torch.Generator().manual_seed(0), content=cc, content_keep=kk)["kl_z"].item()
    subsets = [c[0, [0, 3]], c[1, [4]], c[2]]                                    # what each row keeps
    want = torch.stack([m.encode_content(m.features(s[None]))[0][0] for s in subsets]), \
           torch.stack([m.encode_content(m.features(s[None]))[1][0] for s in subsets])
    assert kl(c, keep) == pytest.approx(gaussian_kl(*want).mean().item(), rel=1e-5)   # the mean over the kept frames
    assert kl(c, keep) == pytest.approx(kl(torch.where(keep[..., None, None, None], c, 1 - c), keep), rel=1e-6)
    assert kl(c, keep) != pytest.approx(kl(c), rel=1e-4)                            # not the mean over all five
    assert kl(c, torch.ones_like(keep)) == pytest.approx(kl(c), rel=1e-5)           # all kept: no mask at all
    with pytest.raises(ValueError, match="at least one frame"): kl(c, keep & torch.tensor([True, True, False])[:, None])
    with pytest.raises(ValueError, match="content_keep"): kl(c, keep[:, :4])

# --- chapter 10b: the DSVAE baseline ---
from lvd.dsvae import DSVAE, diagonal_kl, fit_dsvae, generate_dsvae
import lvd.dsvae as dsvae_module

def test_dsvae_prior_reads_only_the_past_codes():
    "p(z_t | z_<t, k): the prior's prediction for step t moves with z_{t-1}, never with z_t or later codes."
    torch.manual_seed(0)
    m = DSVAE(n_actions=3, static_dim=4, dynamic_dim=3, hidden=8, size=16, width=4, features=8)
    z, a = torch.randn(2, 6, 3), torch.tensor([0, 2])
    mu, lv, _ = m.prior_path(z, a)
    z2 = z.clone(); z2[:, 3] += 1.0
    mu2, lv2, _ = m.prior_path(z2, a)
    torch.testing.assert_close(mu[:, :4], mu2[:, :4], rtol=0, atol=0)        # steps 0..3 do not see z_3
    assert not torch.allclose(mu[:, 4], mu2[:, 4])                           # step 4 reads z_3
    assert not torch.allclose(m.prior_path(z, torch.tensor([1, 2]))[0][:, 0], mu[:, 0])   # and the action

def test_dsvae_loss_adds_its_terms_and_scores_the_looped_clip():
    torch.manual_seed(0)
    m = DSVAE(n_actions=2, static_dim=4, dynamic_dim=2, hidden=8, size=16, width=4, features=8, alpha=0.5, channels=1)
    x, a = torch.rand(3, 8, 1, 16, 16, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1, 1])
    torch.manual_seed(3); out = m.loss(x, a, horizon=16)
    assert out["loss"].item() == pytest.approx((out["sse"] / (2 * 0.5 ** 2) + out["kl_f"] + out["kl_z"]).item(), rel=1e-5)
    # frames 8..15 of the horizon are frames 0..7 again: scoring 16 frames costs about twice the error of 8
    torch.manual_seed(3); longer = m.loss(x, a, horizon=16)["sse"].item()
    torch.manual_seed(3); short = m.loss(x, a)["sse"].item()
    assert longer > short and longer == pytest.approx(2 * short, rel=0.5)
    mu, lv = torch.randn(4, 3), torch.randn(4, 3)
    assert torch.allclose(diagonal_kl(mu, lv, mu, lv), torch.zeros(4), atol=1e-6)        # a posterior equal to its prior

def test_fit_dsvae_reads_the_static_code_from_another_clip(monkeypatch):
    data, seen = _numbered_sprites(), []
    m = DSVAE(n_actions=9, static_dim=4, dynamic_dim=2, hidden=8, size=16, width=4, features=8)
    def spy(frames, action, horizon=None, content=None, content_keep=None):
        seen.append((frames, action, content, content_keep)); return {"loss": torch.zeros((), requires_grad=True)}
    monkeypatch.setattr(m, "loss", spy)
    monkeypatch.setattr(dsvae_module, "fit", lambda model, step_loss, steps, **kw: [step_loss(s) for s in range(steps)])
    fit_dsvae(m, data, 6, batch_size=5)
    for frames, action, c, keep in seen:
        video = (frames[:, 0, 0, 0, 0] * 255).round().long() // 10
        code = (c[:, :, 0, 0, 0] * 255).round().long()
        assert torch.equal(action, data.label9[video]) and keep.any(1).all()
        assert (data.character[code // 10] == data.character[video][:, None]).all()
        assert (data.label9[code // 10] != data.label9[video][:, None]).all()
    with pytest.raises(ValueError, match="needs a Sprites set"): fit_dsvae(m, torch.rand(2, 8, 3, 16, 16), 1)
    seen.clear(); fit_dsvae(m, data, 3, batch_size=5, actions=torch.zeros(len(data.label9), dtype=torch.long))
    assert all((action == 0).all() for _, action, _, _ in seen)                  # the prior reads the given actions ...
    assert all((data.label9[(c[:, :, 0, 0, 0] * 255).round().long() // 10] != data.label9[(f[:, 0, 0, 0, 0] * 255).round().long() // 10][:, None]).all()
               for f, _, c, _ in seen)                                          # ... and other_clips still the real classes
    with pytest.raises(ValueError, match="expected actions of shape"): fit_dsvae(m, data, 1, actions=torch.zeros(3, dtype=torch.long))

def test_generate_dsvae_draws_the_asked_action_from_the_seeded_prior():
    torch.manual_seed(0)
    m = DSVAE(n_actions=3, static_dim=4, dynamic_dim=2, hidden=8, size=16, width=4, features=8).eval()
    g = lambda: torch.Generator().manual_seed(4)
    a = generate_dsvae(m, None, [0, 1, 2], 5, g())
    assert a.shape == (3, 5, 3, 16, 16) and a.min() >= 0 and a.max() <= 1
    torch.testing.assert_close(generate_dsvae(m, None, [0, 1, 2], 5, g()), a, rtol=0, atol=0)
    assert not torch.allclose(generate_dsvae(m, None, [1, 1, 2], 5, g())[0], a[0])         # the action reaches the prior
    with pytest.raises(ValueError, match="action"): generate_dsvae(m, None, [3], 5, g())
