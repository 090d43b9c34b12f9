import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="session")
def root():
    return ROOT

@pytest.fixture(scope="session")
def quick_course(tmp_path_factory):
    "Run `lvd course --profile quick` once, through the console command, in a temporary folder."
    out = tmp_path_factory.mktemp("executed")
    env = dict(os.environ, LVD_THREADS=os.environ.get("LVD_THREADS", "2"))
    proc = subprocess.run(["lvd", "course", "--profile", "quick", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    results = out / "results.json"
    rows = {r["chapter"]: r for r in json.loads(results.read_text())} if results.exists() else {}
    return dict(out=out, rows=rows, returncode=proc.returncode, log=proc.stdout + proc.stderr)
