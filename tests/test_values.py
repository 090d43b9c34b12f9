"""Value tests of small public functions, each written after a mutation run (`mutmut run`, see pyproject.toml) showed
that a one-line change to it passed every test: an exponent, a sign, a reduction axis, a boundary of an input check."""
import json, math
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
    two = torch.cat([target, 2 * target], 1)                    # several targets: one residual over all of them
    assert affine_r2(z, two) == pytest.approx(0.8, rel=1e-9)

def test_optimal_rank_uses_the_gavish_donoho_polynomial():
    "omega(beta) = 0.56 b^3 - 0.95 b^2 + 1.82 b + 1.43; singular values above omega * median count, at least one."
    for shape in [(50, 50), (20, 80), (80, 20)]:
        n, m = sorted(shape); b = n / m
        omega = 0.56 * b ** 3 - 0.95 * b ** 2 + 1.82 * b + 1.43
        s = torch.tensor([omega * 1.001, omega * 0.999, 1.0, 1.0, 1.0, 0.5, 0.2])   # median 1.0
        assert optimal_rank(s, shape) == 1
        assert optimal_rank(torch.tensor([omega * 1.01, omega * 1.001, 1.0, 1.0, 0.3]), shape) == 2
        assert optimal_rank(torch.tensor([omega, 1.0, 1.0]), shape) == 1            # on the threshold: not above it
    assert optimal_rank(torch.ones(5), (10, 10)) == 1                               # nothing above: keep one

def test_is_hamiltonian_on_batches_and_shapes():
    J = symplectic_form(2, torch.float64)
    S = torch.randn(2, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    H_good = J @ (S + S.transpose(-1, -2))                       # J times a symmetric matrix: Hamiltonian
    H_bad = H_good.clone(); H_bad[1, 0, 1] += 1.0
    assert is_hamiltonian(H_good) and is_hamiltonian(H_good[0])
    assert not is_hamiltonian(H_bad) and not is_hamiltonian(H_bad[1])
    assert not is_hamiltonian(H_good + 1e-3, atol=1e-6) and is_hamiltonian(H_good + 1e-9 * J, atol=1e-6)
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
