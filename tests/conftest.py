import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Chapters 08-10 read the Sprites layers (a clone of YingzhenLi/Sprites) from $LVD_SPRITES. This workplace, and its CI,
# keep them in ../shared/data/sprites-lpc beside the checkout; elsewhere, without them, those chapters are skipped.
SPRITES_CHAPTERS = ("08", "10")
_shared_sprites = ROOT.parent / "shared" / "data" / "sprites-lpc"
if not os.environ.get("LVD_SPRITES") and _shared_sprites.is_dir():
    os.environ["LVD_SPRITES"] = str(_shared_sprites)
SPRITES = os.environ.get("LVD_SPRITES")
SPRITES_SKIP = None if SPRITES and Path(SPRITES).is_dir() else \
    "the Sprites layers are not here: clone YingzhenLi/Sprites and set LVD_SPRITES to run chapters 08 and 10"

def skip_without_sprites(chapter: str):
    "Skip a test of a Sprites chapter when the layers are not available."
    if SPRITES_SKIP and chapter[:2] in SPRITES_CHAPTERS: pytest.skip(SPRITES_SKIP)

@pytest.fixture(scope="session")
def root():
    return ROOT

@pytest.fixture(scope="session")
def quick_course(tmp_path_factory):
    "Run `lvd course --profile quick` once, through the console command, in a temporary folder."
    out = tmp_path_factory.mktemp("executed")
    figures = out.parent / f"{out.name}-figures.jsonl"   # every figure's legibility problems (lvd.plotting.check_figures)
    env = dict(os.environ, LVD_THREADS=os.environ.get("LVD_THREADS", "2"), LVD_CHECK_FIGURES=str(figures))
    from lvd.course import chapter_id, find_chapters
    only = [] if not SPRITES_SKIP else \
        ["--only"] + [chapter_id(p) for p in find_chapters(ROOT / "nbs") if chapter_id(p) not in SPRITES_CHAPTERS]
    proc = subprocess.run(["lvd", "course", "--profile", "quick", "--out", str(out)] + only, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    results = out / "results.json"
    rows = {r["chapter"]: r for r in json.loads(results.read_text())} if results.exists() else {}
    return dict(out=out, rows=rows, returncode=proc.returncode, log=proc.stdout + proc.stderr, figures=figures)
