"Chapter 09: Hamiltonian generators, their flows against SciPy, and the conservation properties."
import numpy as np
import pytest
import torch
from scipy.linalg import expm
from lvd.hamiltonian import (HamiltonianOperator, symplectic_form, is_hamiltonian, symplecticity_error,
                             flow_operator, conservation_report)

@pytest.mark.parametrize("kind", HamiltonianOperator.kinds)
def test_generators_are_hamiltonian(kind):
    torch.manual_seed(0)
    op = HamiltonianOperator(4, 3, kind=kind)
    H, M = op.generator(), op.energy_matrix()
    assert is_hamiltonian(H)
    torch.testing.assert_close(M, M.transpose(-1, -2))
    if kind == "skew-H": torch.testing.assert_close(H, -H.transpose(-1, -2))
    else: assert not torch.allclose(H, -H.transpose(-1, -2), atol=1e-3)   # the H family is not all rotations

def test_is_hamiltonian_rejects_a_general_matrix():
    torch.manual_seed(0)
    assert not is_hamiltonian(torch.randn(6, 6))
    J = symplectic_form(3)
    torch.testing.assert_close(J @ J, -torch.eye(6))

@pytest.mark.parametrize("kind", HamiltonianOperator.kinds)
def test_propagator_matches_scipy_expm(kind):
    torch.manual_seed(1)
    op = HamiltonianOperator(3, 4, kind=kind, init_scale=1.0).double()
    times = torch.tensor([-7.0, -0.5, 0.0, 0.3, 2.0, 15.0], dtype=torch.float64)
    P = op.propagator(times).detach().numpy()
    H = op.generator().detach().numpy()
    for i, t in enumerate(times.tolist()):
        for k in range(3):
            ref = expm(t * H[k])
            np.testing.assert_allclose(P[i, k], ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())

def test_block_diagonal_across_actions():
    torch.manual_seed(2)
    op = HamiltonianOperator(3, 2)
    times = torch.linspace(-2, 2, 5)
    B = op.block_propagator(times)
    big_H = torch.block_diag(*op.generator())
    torch.testing.assert_close(B, torch.linalg.matrix_exp(times[:, None, None] * big_H), atol=1e-5, rtol=1e-5)
    s = torch.randn(7, 12)
    torch.testing.assert_close(op.rollout(s, times), torch.einsum("tij,bj->bti", B, s), atol=1e-5, rtol=1e-5)
    # a state that lives in one action's subspace stays there: the other subspaces stay exactly zero
    s1 = torch.zeros(1, 12); s1[0, 4:8] = torch.randn(4)
    out = op.rollout(s1, times)
    assert (out[..., :4] == 0).all() and (out[..., 8:] == 0).all()

@pytest.mark.parametrize("kind", HamiltonianOperator.kinds)
def test_conservation_energy_symplectic_reversible(kind):
    torch.manual_seed(3)
    op = HamiltonianOperator(2, 3, kind=kind).double()
    report = conservation_report(op, torch.randn(10, 12, dtype=torch.float64), torch.linspace(-4, 4, 17, dtype=torch.float64))
    assert all(v < 1e-8 for v in report.values()), report
    P = op.propagator(torch.tensor([3.0], dtype=torch.float64))[0]
    torch.testing.assert_close(torch.linalg.det(P), torch.ones(2, dtype=torch.float64))
    if kind == "skew-H":   # also orthogonal: norms are kept
        torch.testing.assert_close(P.transpose(-1, -2) @ P, torch.eye(6, dtype=torch.float64).expand(2, 6, 6))

def test_conservation_report_catches_a_damped_flow():
    "The checks can fail: a non-Hamiltonian generator breaks all three properties."
    op = HamiltonianOperator(1, 1).double()
    gen = op.generator
    op.generator = lambda: gen() - 0.3 * torch.eye(2, dtype=torch.float64)
    report = conservation_report(op, torch.randn(4, 2, dtype=torch.float64), torch.linspace(-2, 2, 9, dtype=torch.float64))
    assert report["energy drift"] > 0.1 and report["symplecticity error"] > 0.1 and report["reversibility error"] == pytest.approx(0, abs=1e-8)
    assert symplecticity_error(torch.linalg.matrix_exp(torch.eye(2) * 0.5)) > 0.5

def test_flow_operator_and_errors():
    op = flow_operator(torch.diag(torch.tensor([4.0, 1.0])))
    torch.testing.assert_close(op.generator()[0], torch.tensor([[0.0, 1.0], [-4.0, 0.0]]))
    s = op.rollout(torch.tensor([[1.0, 0.0]]), torch.tensor([torch.pi]))   # angular frequency 2: back after time pi
    torch.testing.assert_close(s[0, 0], torch.tensor([1.0, 0.0]), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="symmetric"): flow_operator(torch.tensor([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="expected kind"): HamiltonianOperator(1, 2, kind="unitary")
    with pytest.raises(ValueError, match="finite times"): op.propagator(torch.tensor([float("nan")]))
    with pytest.raises(ValueError, match="expected state of shape"): op.rollout(torch.zeros(3, 5), torch.zeros(2))

def test_operator_is_learnable():
    "Gradient descent through matrix_exp recovers a known spring's frequency."
    torch.manual_seed(0)
    truth = flow_operator(torch.diag(torch.tensor([4.0, 1.0])))
    times = torch.linspace(-1, 1, 9)
    s0 = torch.randn(16, 2)
    with torch.no_grad(): target = truth.rollout(s0, times)
    op = HamiltonianOperator(1, 1, init_scale=0.1)
    opt = torch.optim.Adam(op.parameters(), lr=0.05)
    for _ in range(400):
        opt.zero_grad(); loss = ((op.rollout(s0, times) - target) ** 2).mean(); loss.backward(); opt.step()
    freq = torch.linalg.eigvals(op.generator()[0].detach()).imag.abs().max()
    assert abs(freq.item() - 2.0) < 0.02, freq
