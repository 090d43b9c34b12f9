"""Nothing lost, nothing silent: the runner survives Ctrl-C and failures, checkpoints survive a killed save, and the
command line answers a user's mistake in one line."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from torch import nn
from conftest import ROOT
from lvd.core import NonFiniteLossError, fit, load_checkpoint, save_checkpoint
from lvd.course import load_results, record_results

def _lvd(*args, cwd=ROOT, **kw):
    env = {k: v for k, v in os.environ.items() if k != "LVD_ROOT"}
    return subprocess.run(["lvd", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kw)

@pytest.mark.parametrize("args, phrase", [
    (["course", "--only", "99"], "unknown ['99']"),
    (["course", "--profile", "fast"], "invalid choice"),
    (["course", "--out", "nbs"], "source notebooks"),
    (["course", "--out", "settings.ini"], "is a file"),
    (["docs", "--executed", "no-such-folder"], "run `lvd course` first"),
    (["course", "--seed", "-1"], "expected --seed >= 0"),
    (["course", "--seed", "one"], "invalid int value"),
    (["nonsense"], "invalid choice")])
def test_command_line_mistakes_are_one_line(args, phrase):
    proc = _lvd(*args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and phrase in proc.stderr and proc.stderr.startswith("lvd: error:"), proc.stderr

def test_seed_reaches_the_chapter_and_is_never_recorded(tmp_path, monkeypatch):
    import lvd.course as course
    from lvd.course import UsageError, find_chapters, run_chapter, run_course
    given = []
    def fake_execute(nb, out, cwd, parameters=None, kernel_name=None):
        given.append(parameters); Path(out).write_text("{}")
    monkeypatch.setattr(course, "_execute", fake_execute)
    nb = find_chapters(only=["01"])[0]
    (tmp_path / "01_neural_odes.kernel.log").write_text("an earlier kernel's words")
    row = run_chapter(nb, tmp_path, "quick", seed=3)
    assert not (tmp_path / "01_neural_odes.kernel.log").exists()     # a quiet run leaves no stale log behind
    assert given[-1]["seed"] == 3 and row["seed"] == 3
    row = run_chapter(nb, tmp_path, "quick")                  # seed 0: the chapter's own default, nothing injected
    assert "seed" not in given[-1] and "seed" not in row
    with pytest.raises(UsageError, match="not recorded"): run_course("cpu", ["01"], tmp_path / "other", record=True, seed=1)
    assert len(given) == 2                                    # refused before anything ran
    recorded = course.find_repo_root() / "results" / "cpu.json"
    before = recorded.read_bytes()
    rows = run_course("cpu", ["01"], tmp_path / "third", seed=1)    # the default for cpu records; a seed run does not
    assert len(given) == 3 and rows[0]["seed"] == 1 and recorded.read_bytes() == before

def test_unreadable_notebook_in_out_is_one_line(tmp_path):
    (tmp_path / "01_neural_odes.ipynb").write_text('{"cells": [')             # a truncated copy: source or not?
    proc = _lvd("course", "--only", "01", "--out", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "cannot tell whether" in proc.stderr, proc.stderr
    assert (tmp_path / "01_neural_odes.ipynb").read_text() == '{"cells": ['  # left as it was

def test_outside_a_checkout_is_one_line(tmp_path):
    proc = _lvd("course", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "clone of the repository" in proc.stderr, proc.stderr

def test_read_only_out_is_refused(tmp_path):
    if os.geteuid() == 0: pytest.skip("root writes anywhere")
    ro = tmp_path / "ro"; ro.mkdir(); ro.chmod(0o500)
    proc = _lvd("course", "--only", "00", "--out", str(ro))
    assert proc.returncode == 2 and "cannot write" in proc.stderr

def test_failed_chapter_keeps_the_recorded_ok_row(tmp_path):
    ok = dict(chapter="08_sprites", profile="cpu", device="cpu", status="ok", wall_s=134.2, metrics={"acc": 1.0}, error=None)
    record_results([ok], "cpu", tmp_path)
    record_results([dict(ok, status="failed", metrics={}, error="FileNotFoundError: no layers")], "cpu", tmp_path)
    assert load_results("cpu", tmp_path) == [ok]
    assert "| ok |" in (tmp_path / "cpu.md").read_text()

@pytest.mark.slow
def test_ctrl_c_keeps_what_finished(tmp_path):
    "SIGINT while chapter 01 runs: 00 is kept and listed, 01's previous copy is untouched, one line says so."
    out = tmp_path / "out"; out.mkdir()
    previous = out / "01_neural_odes.ipynb"
    previous.write_text(json.dumps({"cells": [], "metadata": {"papermill": {"note": "previous good copy"}}}))
    env = {k: v for k, v in os.environ.items() if k != "LVD_ROOT"}
    proc = subprocess.Popen(["lvd", "course", "--only", "00", "01", "--out", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (out / ".running-01_neural_odes").exists() and time.time() < deadline and proc.poll() is None: time.sleep(0.2)
    time.sleep(3)   # inside chapter 01's kernel by now
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, stdout, stderr)
    assert stdout.strip().splitlines()[-1].startswith("interrupted during 01_neural_odes"), stdout
    assert "Traceback" not in stderr, stderr[-2000:]
    assert json.loads(previous.read_text())["metadata"]["papermill"]["note"] == "previous good copy"
    rows = json.loads((out / "results.json").read_text())
    assert [(r["chapter"], r["status"]) for r in rows] == [("00_core", "ok")]
    assert json.loads((out / "00_core.ipynb").read_text())["metadata"]["papermill"]
    assert not list(out.glob(".running-*")) and not list(out.glob(".*.tmp"))

_SAVER = """
import sys, torch
from torch import nn
from lvd.core import save_checkpoint
model = nn.Linear(4000, 4000)   # 64 MB of weights: a save takes a while
print("saving", flush=True)
while True: save_checkpoint(sys.argv[1], model, dict(in_features=4000, out_features=4000), generation="new")
"""

def test_killed_save_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    small = nn.Linear(4000, 4000)
    save_checkpoint(path, small, dict(in_features=4000, out_features=4000), generation="old")
    proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "saving"
    time.sleep(0.05); proc.kill(); proc.wait()
    model, extra = load_checkpoint(path, nn.Linear)   # whole: the old one, or a new one that finished
    assert extra["generation"] in ("old", "new") and model.weight.shape == (4000, 4000)

def test_checkpoint_refuses_what_it_could_not_read_back(tmp_path):
    import numpy as np
    m = nn.Linear(2, 2)
    for bad, phrase in [(dict(best=np.float64(0.5)), "numpy.float64"), (dict(where=tmp_path), "str(path)"),
                        (dict(arr=np.zeros(3)), "numpy.ndarray")]:
        with pytest.raises(TypeError, match=phrase.replace("(", r"\(").replace(")", r"\)")): save_checkpoint(tmp_path / "m.pt", m, dict(in_features=2, out_features=2), **bad)
    assert not (tmp_path / "m.pt").exists()
    (tmp_path / "bad.pt").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="bad.pt, but the file is empty, cut short or not a checkpoint"): load_checkpoint(tmp_path / "bad.pt", nn.Linear)

def test_fit_stops_an_explosion_and_restores_the_weights():
    torch.manual_seed(0)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    model = nn.Linear(3, 1)
    with pytest.raises(NonFiniteLossError, match="grew to") as info:
        fit(model, lambda step: ((model(x) - y) ** 2).mean(), steps=50, lr=1e8, clip=None, schedule="constant")
    err = info.value
    assert err.history and not model.training
    assert torch.isfinite(model.weight).all()
    assert ((model(x) - y) ** 2).mean().item() == pytest.approx(err.history[-1], rel=1e-6)

def _fake_layers(root: Path):
    "Empty files where sprites_root expects the layer sheets: enough for the cache's key, not for drawing."
    from lvd.sprites import _layer_files
    for f in _layer_files(root): f.parent.mkdir(parents=True, exist_ok=True); f.write_bytes(b"png")
    return root

def test_sprites_cache_is_keyed_checked_and_rebuilt(tmp_path, monkeypatch):
    import numpy as np
    import lvd.sprites as data, lvd.judges as judges
    builds = []
    def fake_build(root, size):
        builds.append(Path(root)); return np.full((1296, 9, 8, size, size, 3), len(builds), np.uint8)
    monkeypatch.setattr(data, "build_sprites", fake_build)
    a, b, cache = _fake_layers(tmp_path / "a"), _fake_layers(tmp_path / "b"), tmp_path / "cache"
    first = data.load_sprites("test", 16, a, cache, n_characters=1)
    assert len(builds) == 1 and int(first.frames.max()) == 1
    data.load_sprites("test", 16, a, cache, n_characters=1); assert len(builds) == 1          # read back, not rebuilt
    data.load_sprites("test", 16, b, cache, n_characters=1); assert builds[-1] == b             # other layers: other cache
    files = sorted(cache.glob("sprites-16px-*.npz"))
    assert len(files) == 2 and not list(cache.glob(".*tmp"))
    for damage in (b"", b"PK\x03\x04 not a zip", files[0].read_bytes()[:1000]):
        for f in files: f.write_bytes(damage)
        n = len(builds)
        with pytest.warns(UserWarning, match="unreadable"): data.load_sprites("test", 16, a, cache, n_characters=1)
        assert len(builds) == n + 1
    with pytest.raises(ValueError, match="n_characters"): data.load_sprites("test", 16, a, cache, n_characters=-1)

def test_judges_cache_survives_corruption(tmp_path):
    import lvd.sprites as data, lvd.judges as judges
    clips = torch.randint(0, 255, (18, 8, 3, 16, 16), dtype=torch.uint8)
    train = data.Sprites(clips, torch.arange(18) % 9 // 3, torch.arange(18) % 3, torch.zeros(18, 4, dtype=torch.long), torch.arange(18) // 9)
    judges.sprite_judges(train, steps=1, width=4, cache_dir=tmp_path)
    [path] = list(tmp_path.glob("judges-*.pt")); path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match="judges cache .* is unreadable"): judges.sprite_judges(train, steps=1, width=4, cache_dir=tmp_path)
    assert len(judges.sprite_judges(train, steps=1, width=4, cache_dir=tmp_path)) == 5   # read back whole

@pytest.mark.slow
def test_sprites_build_in_bounded_memory():
    from conftest import SPRITES, SPRITES_SKIP
    if SPRITES_SKIP: pytest.skip(SPRITES_SKIP)
    if not Path("/proc/self/status").exists(): pytest.skip("reads the peak memory from /proc (Linux)")
    # VmHWM, not ru_maxrss: Linux carries the parent's peak into a forked child's ru_maxrss, and pytest's is large
    code = ("import re, torch; torch.set_num_threads(1); from lvd.sprites import build_sprites; "
            f"build_sprites({SPRITES!r}, 32); print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))")
    peak_kb = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600).stdout)
    assert peak_kb < 2 * 1024 ** 2, f"building the 32-pixel Sprites set peaked at {peak_kb / 1024:.0f} MB"

def test_kernel_stderr_goes_to_a_log_not_to_the_console(tmp_path, capfd):
    "Native-library noise a kernel prints on its own stderr (at teardown, say) lands beside the executed notebook."
    import nbformat
    from lvd.course import _execute
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os; os.write(2, b'zmq-like noise\\n'); x = 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "demo.ipynb"; nbformat.write(nb, src)
    _execute(src, tmp_path / "demo-run.ipynb", tmp_path)
    assert "zmq-like noise" not in capfd.readouterr().err
    assert "zmq-like noise" in (tmp_path / "demo-run.kernel.log").read_text()
    nb.cells[0].source = "x = 1"; nbformat.write(nb, src)
    _execute(src, tmp_path / "quiet.ipynb", tmp_path)
    assert not (tmp_path / "quiet.kernel.log").exists()                 # a kernel that said nothing leaves no file
