"""The data and the networks every recorded number was measured on, pinned by value. Each generator is run on a small
seeded case and each network built with its defaults (seeded) and applied to a seeded input; three numbers summarise each
result: the sum, the sum of squares and a fixed random weighting of every value, so a moved, dropped, rescaled or
re-ordered value changes them. A constant off in a simulation, a layer of another width, an activation swapped or an
initialisation changed shows here, where shape tests pass.

These are regression pins, not truths: a deliberate change to a generator or a network changes the results in
`results/*.json` as well. Re-run the chapters it touches, then print the new numbers with
`python tests/test_fingerprints.py` and paste them below, saying why in the commit. Pinned 2026-12-02, torch 2.13 (CPU)."""
import pytest, torch
from lvd.datasets import (spiral_states, spiral_trajectory, render_balls, gaussian_ball_videos, ball_grid, mnist_digits, draw_digits,
                          moving_mnist, bouncing_balls, vortex_street, pad_frames, digit_cycles, salt_pepper_mask, rectangle_mask,
                          wave_texture)

def fingerprint(x) -> list[float]:
    "Sum, sum of squares and a fixed random weighting of every value: a moved, dropped or rescaled value changes them."
    x = torch.cat([torch.as_tensor(v).double().flatten() for v in x]) if isinstance(x, tuple) else torch.as_tensor(x).double()
    w = torch.rand(x.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return [x.sum().item(), (x ** 2).sum().item(), (x * w).sum().item()]

def _digits():
    images, labels = mnist_digits("train")
    return images[::50], labels[::50]

g = lambda s: torch.Generator().manual_seed(s)
CASES = {
    "spiral_trajectory": lambda: spiral_trajectory(torch.tensor([[1.0, 0.5]]), n_points=300),
    "spiral_states": lambda: spiral_states(3, n_points=300)[1],
    "render_balls": lambda: render_balls(torch.tensor([[[3.0, 20.5]], [[14.2, 9.9]]])),
    "gaussian_ball_videos": lambda: gaussian_ball_videos(3, T=6),
    "ball_grid": lambda: ball_grid(4),
    "moving_mnist": lambda: moving_mnist(_digits()[0], 2, 8, n_digits=2, size=48),
    "bouncing_balls": lambda: bouncing_balls(2, 12),
    "vortex_street": lambda: (lambda w, s, info: (w, s, torch.tensor([info["nu"], info["omega"], info["dt"]])))(
        *vortex_street(transient=150, every=25, snapshots=4, progress_bar=False)),
    "pad_frames": lambda: pad_frames(_digits()[0][:3]),
    "digit_cycles": lambda: digit_cycles(*_digits(), 3, 7, generator=g(1)),
    "salt_pepper_mask": lambda: salt_pepper_mask((2, 3, 8, 8), 0.3, generator=g(2)),
    "rectangle_mask": lambda: rectangle_mask((2, 3, 16, 12), 0.4, generator=g(3)),
    "wave_texture": lambda: wave_texture(6),
}

from lvd.nets import FrameEncoder, FrameDecoder
from lvd.autoencoder import ConvAutoencoder
from lvd.latent_ode import SecondOrderField, LatentODE
from lvd.disentangled import ConcatDecoder, GlyphDecoder, DisentangledODE
from lvd.koopman import RotationScaling, DenseKoopman, KoopmanAE
from lvd.dvae import DynamicLayer, DynamicVAE, FrameVAE
from lvd.hamiltonian import HamiltonianOperator
from lvd.hamiltonian_vae import HamiltonianVAE
from lvd.judges import FrameClassifier
from lvd.ode import VectorField, NeuralODE, TimeMLP

def x(*shape, seed=1): return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))
video = lambda m, v, t, **c: m.decode(m.rollout(m.encode(v, **c), torch.tensor(t)))
MODELS = {   # name: (build, what its output is computed from)
    "FrameEncoder": (lambda: FrameEncoder(3, 10), lambda m: m(x(2, 3, 32, 32))),
    "FrameDecoder": (lambda: FrameDecoder(10, 3), lambda m: m(x(2, 10) - 0.5)),
    "ConvAutoencoder": (lambda: ConvAutoencoder(), lambda m: m.decode(m.encode(x(2, 1, 28, 28)))),
    "ConvAutoencoder sigmoid": (lambda: ConvAutoencoder(output="sigmoid", n_freqs=None), lambda m: m.decode(m.encode(x(2, 1, 28, 28)))),
    "SecondOrderField": (lambda: SecondOrderField(3), lambda m: m(torch.tensor(0.0), x(2, 6) - 0.5)),
    "LatentODE": (lambda: LatentODE(dt=0.1), lambda m: video(m, x(2, 2, 1, 28, 28), [0.1, 0.3])),
    "DisentangledODE": (lambda: DisentangledODE(), lambda m: video(m, x(2, 2, 1, 64, 64), [1.0, 2.0])),
    "DisentangledODE glyph": (lambda: DisentangledODE(decoder="glyph"), lambda m: video(m, x(2, 2, 1, 64, 64), [1.0, 2.0])),
    "ConcatDecoder": (lambda: ConcatDecoder(3, 4), lambda m: m(x(2, 2, 3) - 0.5, x(2, 4))),
    "GlyphDecoder": (lambda: GlyphDecoder(3, 4), lambda m: m(x(2, 2, 3) - 0.5, x(2, 4))),
    "KoopmanAE": (lambda: KoopmanAE(), lambda m: video(m, x(2, 3, 1, 32, 32), [1.0, 2.0])),
    "KoopmanAE dense": (lambda: KoopmanAE(operator="dense"), lambda m: video(m, x(2, 3, 1, 32, 32), [1.0, 2.0])),
    "DynamicLayer": (lambda: DynamicLayer(), lambda m: torch.cat([m.A.flatten(), m.B.flatten()])),
    "DynamicVAE": (lambda: DynamicVAE(), lambda m: video(m, x(2, 3, 1, 32, 32), [1.0, 2.0])),
    "FrameVAE": (lambda: FrameVAE(), lambda m: m.decode(m.encode(x(2, 1, 32, 32))[0])),
    "HamiltonianOperator H": (lambda: HamiltonianOperator(2, 2), lambda m: m.propagator(torch.tensor([0.5, 2.0]))),
    "HamiltonianOperator skew-H": (lambda: HamiltonianOperator(2, 2, kind="skew-H"), lambda m: m.propagator(torch.tensor([0.5, 2.0]))),
    "HamiltonianVAE": (lambda: HamiltonianVAE(), lambda m: video(m, x(2, 8, 3, 32, 32), [0.0, 3.0], action=torch.tensor([1, 7]))),
    "FrameClassifier": (lambda: FrameClassifier(5, channels=3), lambda m: m(x(2, 3, 32, 32))),
    "VectorField": (lambda: VectorField(time_dependent=True), lambda m: m(torch.tensor(0.3), x(4, 2) - 0.5)),
    "NeuralODE": (lambda: NeuralODE(scale=2.0), lambda m: m.rollout(x(3, 2) - 0.5, torch.tensor([0.0, 0.5, 1.0]))),
    "TimeMLP": (lambda: TimeMLP(), lambda m: m(torch.linspace(0, 1, 5))),
}

DATA = {
    'spiral_trajectory': [-792.8612651884323, 20338.739262419756, -406.31602498965276],
    'spiral_states': [-743.1973468846118, 1238.2165069688535, -371.0277280232242],
    'render_balls': [49.29327783426287, 25.06051227265312, 24.517368826269884],
    'gaussian_ball_videos': [875.5029621681363, 6340.53096528596, 449.27245386096354],
    'ball_grid': [818.7959731236656, 7991.907988246767, 431.4714469994014],
    'moving_mnist': [2713.7137486957945, 2292.250070591433, 1364.7576327316754],
    'bouncing_balls': [1167.8154495217766, 594.109694440912, 586.9471476049691],
    'vortex_street': [107.91870409777971, 710.9528773766745, 57.367348793690276],
    'pad_frames': [400.4588266601786, 345.0101536443288, 195.08694933206135],
    'digit_cycles': [2295.2902142950334, 2071.474854243641, 1176.7467873943713],
    'salt_pepper_mask': [123.0, 123.0, 61.25605731973624],
    'rectangle_mask': [672.0, 672.0, 340.21726675598455],
    'wave_texture': [3113.007642474072, 1934.0198979254856, 1566.26579757171],
}

# name: (number of parameters, fingerprint of the parameters, fingerprint of the output)
NETWORKS = {
    'FrameEncoder': (186090, [11.676713830238555, 78.63893529695945, 7.096706248468134], [0.019645092252176255, 0.007817057489822208, 0.02415216700981169]),
    'FrameDecoder': (694627, [32.26422508365076, 853.8458994376932, 17.0566731504044], [150.3264732887037, 21.412327535023806, 72.70136405389538]),
    'ConvAutoencoder': (860969, [6.545627685354884, 1212.0119982707947, 22.481415649133528], [362.966336093843, 85.8307078670951, 179.4604735813839]),
    'ConvAutoencoder sigmoid': (860393, [-5.867499163981893, 1213.0297749348467, 15.591348135221775], [795.187717974186, 403.42628817099063, 393.00547555486594]),
    'SecondOrderField': (4803, [-7.171994533448014, 47.39538057448809, -3.134647796110249], [0.7242117673158646, 0.4668467097879553, 0.43594794974503065]),
    'LatentODE': (864937, [-2.497213064702283, 1266.4256889565997, 12.683167719326896], [0.8687202632427216, 0.02473482855115794, 0.4793524068178954]),
    'DisentangledODE': (1096435, [1.7217094072737975, 1087.2559717406157, 19.144088045920864], [8155.787057995796, 4060.0336274974843, 4115.810073075008]),
    'DisentangledODE glyph': (1019125, [9.308158406570774, 1093.9650588912336, 20.477030364061633], [2074.1735010657612, 1085.6141850352033, 1049.2425700209483]),
    'ConcatDecoder': (246433, [20.30558471277118, 877.1774111715476, 13.43550512775562], [-2899.2114883959293, 517.4761360007931, -1461.8665829908623]),
    'GlyphDecoder': (175075, [7.471425957719475, 956.1051677547262, 1.1591942240801139], [-121963.34823989868, 1220815.7601567172, -61307.26492880729]),
    'KoopmanAE': (183697, [33.724771794546484, 323.7831592468211, 17.785395433598982], [789.0342799276114, 157.20630243198718, 397.96254804638966]),
    'KoopmanAE dense': (183753, [36.626595955956816, 329.26760332353945, 18.84909341865819], [789.0342803895473, 157.2063025805262, 397.9625483747323]),
    'DynamicLayer': (200, [14.142135381698608, 9.999999658638004, 6.404874908346207], [14.142135381698608, 9.999999658638004, 6.404874908346207]),
    'DynamicVAE': (940849, [45.49792844562853, 952.6998313688036, 23.993717089196444], [1023.8495745360851, 258.74434204138976, 515.495718547729]),
    'FrameVAE': (899157, [10.650341442257059, 935.3142605707424, 10.040203803246552], [-129.24908918514848, 9.379315114946053, -63.77180526752786]),
    'HamiltonianOperator H': (32, [0.05273623950779438, 2.0249112005416703, 0.18876176632326855], [32.10026905313134, 62.63771862885944, 17.17725887223572]),
    'HamiltonianOperator skew-H': (32, [0.05273623950779438, 2.0249112005416703, 0.18876176632326855], [7.96435190923512, 16.000001580579696, 3.2117107013124766]),
    'HamiltonianVAE': (1514331, [-28.877971363767337, 1143.973419030128, -3.0761972329228726], [889.3008264695236, 92.97881192273192, 451.98688294662213]),
    'FrameClassifier': (281925, [4.664128806093686, 55.73339188006613, 1.9264055270675957], [0.027654647827148438, 0.10758269485777036, -0.07068296563582027]),
    'VectorField': (4546, [-9.87647132499842, 49.97839770244463, -3.975226570052585], [-0.15808958932757378, 0.07754729448816362, -0.04852668947903596]),
    'NeuralODE': (4482, [-9.79672150220722, 54.59573685886416, -3.91112682645198], [-1.6456195823848248, 1.9365572291459836, -0.8563753634130646]),
    'TimeMLP': (33538, [4.3306900904281065, 169.91962069250377, 5.359752339950166], [0.8899951241910458, 0.1050164487897119, 0.4715360909087098]),
}

def _network(name):
    build, output = MODELS[name]
    torch.manual_seed(0)
    m = build().eval()
    params = torch.cat([p.detach().flatten().double() for p in m.parameters()])
    with torch.no_grad(): out = output(m)
    return params.numel(), fingerprint(params), fingerprint(out)

# float32 convolutions may sum in another order on another CPU: 1e-4 relative, far below what any change of the code moves
close = lambda got, want: got == pytest.approx(want, rel=1e-4, abs=1e-4)

@pytest.mark.parametrize("name", sorted(DATA))
def test_generator_output_is_pinned(name):
    assert close(fingerprint(CASES[name]()), DATA[name]), f"{name}: {fingerprint(CASES[name]())}"

@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network_architecture_initialisation_and_output_are_pinned(name):
    n, params, out = _network(name)
    want_n, want_params, want_out = NETWORKS[name]
    assert n == want_n, f"{name}: {n} parameters, pinned {want_n}"
    assert close(params, want_params), f"{name}: initial parameters {params}"
    assert close(out, want_out), f"{name}: output {out}"

def test_the_pins_cover_every_case():
    assert set(DATA) == set(CASES) and set(NETWORKS) == set(MODELS)

if __name__ == "__main__":   # print the current values, to update the pins after a deliberate change
    for name, f in CASES.items(): print(f"    {name!r}: {fingerprint(f())},")
    for name in MODELS: print(f"    {name!r}: {_network(name)},")
