"Every chapter notebook runs under the quick profile, through `lvd course`, and reports its numbers."
import json
import pytest
from lvd.course import find_chapters
from conftest import SPRITES_SKIP, skip_without_sprites

CHAPTERS = [p.stem for p in find_chapters()]

def test_course_command_succeeds(quick_course):
    assert quick_course["returncode"] == 0, quick_course["log"][-3000:]
    assert (quick_course["out"] / "results.md").exists()

def test_quick_course_is_quick(quick_course):
    total = sum(r["wall_s"] for r in quick_course["rows"].values())
    assert total < 300, f"the quick profile should run in under 300 s on 2 cores, took {total:.0f} s"

@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs(quick_course, chapter):
    skip_without_sprites(chapter)
    row = quick_course["rows"].get(chapter)
    assert row is not None, f"{chapter} was not run"
    assert row["status"] == "ok", row["error"]
    executed = json.loads((quick_course["out"] / f"{chapter}.ipynb").read_text())
    assert any(c.get("outputs") for c in executed["cells"] if c["cell_type"] == "code")

@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c[:2] != "00" or c == "00_core"])
def test_chapter_writes_results(quick_course, chapter):
    skip_without_sprites(chapter)
    rec = json.loads((quick_course["out"] / f"{chapter}.json").read_text())
    assert rec["chapter"] == chapter and rec["profile"] == "quick"
    assert rec["metrics"], f"{chapter} wrote no metrics"

def test_nothing_written_into_nbs(root):
    stray = [p.name for p in (root / "nbs").iterdir() if p.suffix not in (".ipynb",) and not p.name.startswith(".")]
    assert stray == [], f"chapters must write into out_dir, not nbs/: {stray}"
