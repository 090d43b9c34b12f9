"""The conformance test of chapter 00d's interface: every family and every classical reference of the course, built
small, answers `encode(context) -> state`, `rollout(state, t) -> latents`, `decode(latents) -> frames` with the same
shapes, range and determinism, draws at t = 0 (or at the earliest time it represents) its own reconstruction of a
context frame, and refuses the times it cannot honour with a clear error."""
import pytest, torch
from lvd.video import AllBlack, CopyLast, VideoModel, predict, rollout_times, score_forecast
from lvd.latent_ode import LatentODE
from lvd.disentangled import DisentangledODE
from lvd.dmd import DMD
from lvd.koopman import KoopmanAE
from lvd.dvae import DynamicVAE, FrameVAE, LinearDynamicTexture, VAEVAR
from lvd.hamiltonian_vae import HamiltonianVAE
from lvd.dsvae import DSVAE

def _videos(n, T, C, S, seed=0):
    return torch.rand(n, T, C, S, S, generator=torch.Generator().manual_seed(seed))

def _latent_ode():
    torch.manual_seed(0); m = LatentODE(latent_dim=2, size=16, width=4, hidden=8, field_width=8, step_size=0.25, dt=0.5)
    # t = -1 is the second-to-last context frame, where the state sits: its autoencoder reconstruction
    return m.eval(), -1.0, lambda ctx: m.ae.decode(m.ae.encode(ctx[:, -2])).clamp(0, 1)

def _disentangled(channels=1):
    def make():
        torch.manual_seed(0)
        m = DisentangledODE(n_in=2, latent_dim=2, appearance_dim=3, size=16, width=4, hidden=8, field_width=8, channels=channels)
        def recon(ctx):
            a, state0 = m.encode(ctx)
            return torch.sigmoid(m.decode_logits(state0[:, None, :m.latent_dim], a))[:, 0]
        return m.eval(), 0.0, recon
    return make

def _dmd():
    m = DMD.from_videos(_videos(6, 5, 1, 8, seed=3), rank=4)
    return m, 0.0, lambda ctx: ctx[:, -1].double().clamp(0, 1).float()        # t = 0 is the snapshot itself

def _koopman(operator, channels=1):
    def make():
        torch.manual_seed(0); m = KoopmanAE(2, operator=operator, size=8, channels=channels)
        return m.eval(), 0.0, lambda ctx: m.decode_frames(m.encode_frames(ctx[:, -1])).clamp(0, 1)
    return make

def _lds():
    m = LinearDynamicTexture(3).fit(_videos(4, 6, 1, 8, seed=4))
    return m, 0.0, lambda ctx: m.decode_frames(m.encode_frames(ctx[:, -1])).clamp(0, 1)

def _dvae():
    torch.manual_seed(0); m = DynamicVAE(n=2, size=8, width=4)
    def recon(ctx):                               # the window's reconstruction through the posterior mean, its last frame
        mu, _ = m.posterior(ctx[:, -2:])
        return m.decode_frames(m.dynamics(mu))[:, -1].clamp(0, 1)
    return m.eval(), 0.0, recon

def _vaevar():
    torch.manual_seed(0); vae = FrameVAE(n=2, size=8, width=4).eval()
    m = VAEVAR(vae).fit(_videos(4, 6, 1, 8, seed=5))
    return m, 0.0, lambda ctx: vae.decode(vae.encode(ctx[:, -1])[0]).clamp(0, 1)

def _hvae():
    torch.manual_seed(0); m = HamiltonianVAE(n_actions=3, d=2, content_dim=4, size=8, width=4, features=8, window=2).eval()
    def recon(ctx, action):
        ref = torch.full((len(ctx),), ctx.shape[1] - 1)
        z, _, s, _ = m.posterior(ctx, action, ref)
        return m.render(z, m.place(s, action)[:, None])[:, 0].clamp(0, 1)
    return m, 0.0, recon

def _dsvae():
    torch.manual_seed(0); m = DSVAE(n_actions=3, static_dim=4, dynamic_dim=2, hidden=8, size=8, width=4, features=8).eval()
    def recon(ctx, action):                       # static code from the whole context, the last frame's own dynamic code
        h = m.features(ctx)
        return m.render(m.encode_static(h)[0], m.encode_dynamic(h)[0][:, -1:])[:, 0].clamp(0, 1)
    return m, 0.0, recon

def _copy_last(): return CopyLast(), 0.0, lambda ctx: ctx[:, -1]
def _all_black(): return AllBlack(), 0.0, lambda ctx: torch.zeros_like(ctx[:, -1])

# name: (factory, channels, size, fractional times allowed, earliest time, conditioning)
FAMILIES = {
    "CopyLast": (_copy_last, 1, 8, True, None, False),
    "AllBlack": (_all_black, 1, 8, True, None, False),
    "LatentODE": (_latent_ode, 1, 16, True, -1.0, False),
    "DisentangledODE": (_disentangled(), 1, 16, True, 0.0, False),
    "DisentangledODE RGB": (_disentangled(3), 3, 16, True, 0.0, False),
    "DMD": (_dmd, 1, 8, True, 0.0, False),
    "KoopmanAE blocks": (_koopman("blocks"), 1, 8, True, None, False),
    "KoopmanAE blocks RGB": (_koopman("blocks", 3), 3, 8, True, None, False),
    "KoopmanAE dense": (_koopman("dense"), 1, 8, False, 0.0, False),
    "LinearDynamicTexture": (_lds, 1, 8, False, 0.0, False),
    "DynamicVAE": (_dvae, 1, 8, False, 0.0, False),
    "VAEVAR": (_vaevar, 1, 8, False, 0.0, False),
    "HamiltonianVAE": (_hvae, 3, 8, True, None, True),
    "DSVAE": (_dsvae, 3, 8, False, 0.0, True),
}

@pytest.fixture(params=list(FAMILIES), ids=list(FAMILIES))
def family(request):
    make, C, S, fractional, earliest, conditioned = FAMILIES[request.param]
    model, t_recon, recon = make()
    videos = _videos(5, 4, C, S, seed=1)
    cond = {"action": torch.tensor([0, 2, 1, 0, 2])} if conditioned else {}
    return dict(name=request.param, model=model, t_recon=t_recon, recon=recon, videos=videos, cond=cond,
                fractional=fractional, earliest=earliest)

def test_is_a_video_model(family):
    assert isinstance(family["model"], VideoModel)

def test_shapes_range_dtype_and_determinism(family):
    m, v, cond = family["model"], family["videos"], family["cond"]
    t = torch.tensor([1.0, 2.0, 5.0])
    out = predict(m, v, 3, t, batch_size=2, **cond)
    assert out.shape == (5, 3, *v.shape[2:]) and out.dtype == torch.float32 and out.device.type == "cpu"
    assert out.min() >= 0 and out.max() <= 1 and torch.isfinite(out).all()
    torch.testing.assert_close(predict(m, v, 3, t, batch_size=5, **cond), out, rtol=0, atol=1e-6)   # batches, conditioning split alike
    torch.testing.assert_close(predict(m, v, 3, t, batch_size=2, **cond), out, rtol=0, atol=0)        # the same call, the same frames

def test_the_earliest_time_draws_the_models_own_reconstruction(family):
    m, v, cond = family["model"], family["videos"], family["cond"]
    ctx = v[:, :3]
    with torch.no_grad():
        frame = m.decode(m.rollout(m.encode(ctx, **cond), torch.tensor([family["t_recon"]])))[:, 0]
        expected = family["recon"](ctx, *cond.values())
    torch.testing.assert_close(frame, expected.to(frame.dtype), rtol=0, atol=1e-5)
    # and three frames later the latents have moved: a rollout that ignores t fails here
    if family["name"] not in ("CopyLast", "AllBlack"):
        with torch.no_grad():
            state = m.encode(ctx, **cond)
            now, later = (m.rollout(state, torch.tensor([family["t_recon"] + dt])) for dt in (0.0, 3.0))
        now, later = (x[-1] if isinstance(x, tuple) else x for x in (now, later))
        assert not torch.allclose(later, now, atol=1e-6)

def test_the_context_is_read_from_its_end(family):
    "A longer context with different frames in front gives the same state: `t` counts from the last context frame."
    m, v, cond = family["model"], family["videos"], family["cond"]
    if family["name"] in ("HamiltonianVAE", "DSVAE"): pytest.skip("its content is pooled over every context frame, by design")
    junk = torch.cat([_videos(5, 2, *v.shape[2:4], seed=9), v[:, :3]], 1)
    torch.testing.assert_close(predict(m, junk, 5, [1.0, 2.0], **cond), predict(m, v, 3, [1.0, 2.0], **cond), rtol=0, atol=1e-6)

def test_times_a_family_cannot_honour_are_refused_clearly(family):
    m, v, cond = family["model"], family["videos"], family["cond"]
    with pytest.raises(ValueError, match="strictly increasing"): predict(m, v, 3, [2.0, 1.0], **cond)
    with pytest.raises(ValueError, match="at least one time"): predict(m, v, 3, torch.tensor([]), **cond)
    if family["fractional"]:
        out = predict(m, v, 3, [1.5, 2.5], **cond)
        assert out.shape[1] == 2 and torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
        # a time's frame does not depend on the other times asked with it
        torch.testing.assert_close(predict(m, v, 3, [1.0, 1.5], **cond)[:, 0], predict(m, v, 3, [1.0, 2.0], **cond)[:, 0],
                                   rtol=0, atol=1e-5)
    else:
        with pytest.raises(ValueError, match="whole frame steps"): predict(m, v, 3, [0.5, 1.0], **cond)
    if family["earliest"] is not None:
        with pytest.raises(ValueError, match=f"cannot go back before t = {family['earliest']:g}"):
            predict(m, v, 3, [family["earliest"] - 1.0, 1.0], **cond)
    else:
        assert predict(m, v, 3, [-2.0, 1.0], **cond).shape[1] == 2

def test_bad_context_is_refused_clearly(family):
    "Each model's own `encode` refuses a context that is not frames (B, T, C, H, W) of floats in [0, 1]."
    m, v, cond = family["model"], family["videos"], family["cond"]
    with pytest.raises(ValueError, match=r"\(B, T, "): m.encode(v[0], **cond)
    with pytest.raises(TypeError, match="floating-point"): m.encode((v * 255).to(torch.uint8), **cond)
    with pytest.raises(ValueError, match=r"\[0, 1\]"): m.encode(v * 2, **cond)

def test_dmd_interpolates_only_from_one_step_on():
    m = _dmd()[0]
    v = _videos(3, 4, 1, 8, seed=1)
    with pytest.raises(ValueError, match="interpolates from one step on"): predict(m, v, 3, [0.5, 1.0])
    torch.testing.assert_close(predict(m, v, 3, [0.0, 1.5])[:, 0], v[:, 2])          # t = 0 is the frame itself, always

def test_fractional_rollouts_interpolate_whole_ones():
    "Where a family takes real times, its half step lies between its whole steps (smooth in t), for the ODE and Koopman."
    for make in (_latent_ode, _koopman("blocks")):
        m = make()[0]
        v = _videos(3, 3, 1, m.ae.size if hasattr(m, "ae") else 8, seed=2)
        with torch.no_grad():
            lat = m.rollout(m.encode(v), torch.tensor([1.0, 1.001, 2.0]))
        assert (lat[:, 1] - lat[:, 0]).abs().max() < 0.01 * (lat[:, 2] - lat[:, 0]).abs().max() + 1e-6

def test_score_forecast_scores_the_baselines_by_the_same_path():
    v = _videos(4, 6, 1, 16, seed=6)
    pred = predict(CopyLast(), v, 2, torch.arange(1.0, 4.0))
    s = score_forecast(pred, v, 2)
    assert set(s) == {"model", "copy last", "all black"}
    assert s["model"]["mse"] == s["copy last"]["mse"] and s["model"]["ssim"] == s["copy last"]["ssim"]
    truth = v[:, 2:5]
    assert s["all black"]["mse"] == pytest.approx((truth ** 2).mean().item(), rel=1e-6)
    assert s["copy last"]["mse"] == pytest.approx(((v[:, 1:2] - truth) ** 2).mean().item(), rel=1e-6)
    with pytest.raises(ValueError, match="need videos of 8 frames"): score_forecast(v[:, :6], v, 2)
    with pytest.raises(ValueError, match="does not match"): score_forecast(pred[:3], v, 2)

def test_predict_restores_training_mode_and_refuses_non_models():
    m = _koopman("blocks")()[0].train()
    predict(m, _videos(2, 2, 1, 8), 1, [1.0])
    assert m.training
    with pytest.raises(TypeError, match="encode, rollout and decode"): predict(torch.nn.Linear(2, 2), _videos(2, 2, 1, 8), 1, [1.0])
    with pytest.raises(ValueError, match="whole frame steps"): rollout_times([0.5], whole=True)
