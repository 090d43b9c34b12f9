"Chapter 08: building Sprites from the LPC layers, the split, the cache, the errors, and the judges' scores."
import os
import numpy as np
import pytest
import torch
from conftest import SPRITES_SKIP
from lvd.sprites import sprites_root, build_sprites, load_sprites, sprites_split, clip_cells, _over, N_CHARACTERS
from lvd.judges import judge_scores, start_anywhere, as_clip_image

needs_sprites = pytest.mark.skipif(SPRITES_SKIP is not None, reason=str(SPRITES_SKIP))

def test_split_is_the_standard_one():
    train, test = sprites_split()
    assert len(train) == 1000 and len(test) == 296
    np.random.seed(423); legacy = np.random.permutation(1296)    # the benchmark's recipe, verbatim
    np.testing.assert_array_equal(np.concatenate([train, test]), legacy)

def test_clip_cells_follow_the_layout():
    cells = clip_cells()
    assert cells[0] == [(10, 8), (10, 1), (10, 2), (10, 3), (10, 4), (10, 5), (10, 6), (10, 7)]   # walk front
    assert [c for _, c in cells[3]] == [0, 1, 2, 3, 4, 5, 4, 6]                                  # spellcard front
    assert cells[3][0][0] == 2 and cells[4][0][0] == 1 and cells[5][0][0] == 3                   # front, left, right
    assert [c for _, c in cells[8]] == [0, 1, 2, 3, 4, 5, 4, 0] and cells[8][0][0] == 15         # slash right

def test_alpha_over_black():
    canvas = np.zeros(3, np.float32)
    layer = np.array([[1.0, 0.5, 0.0, 0.25], [0.2, 0.2, 0.2, 0.0]], np.float32)
    np.testing.assert_allclose(_over(canvas, layer), [[0.25, 0.125, 0.0], [0, 0, 0]])

def test_missing_layers_are_named(tmp_path, monkeypatch):
    (tmp_path / "body").mkdir()
    for v in range(6): (tmp_path / "body" / f"{v}.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"missing 19: bottomwear/0.png"): sprites_root(tmp_path)
    monkeypatch.delenv("LVD_SPRITES", raising=False)
    with pytest.raises(FileNotFoundError, match="YingzhenLi/Sprites"): sprites_root(None)
    with pytest.raises(FileNotFoundError, match="missing"): load_sprites("train", 32, path=tmp_path, cache_dir=tmp_path / "cache")

def test_bad_arguments():
    with pytest.raises(ValueError, match="split"): load_sprites("valid")
    with pytest.raises(ValueError, match="size"): load_sprites("train", size=48)

@needs_sprites
def test_build_and_cache(tmp_path):
    full = build_sprites()
    assert full.shape == (1296, 9, 8, 64, 64, 3) and full.dtype == np.uint8
    # every frame shows a character on black: some bright pixels, a black corner
    assert (full[::97].reshape(-1, 64 * 64 * 3).max(1) > 100).all() and (full[::97, :, :, :4, :4] == 0).all()
    # attributes change pixels: characters that differ in one attribute differ in their frames
    for step in (216, 36, 6, 1):
        assert (full[0, 0, 0].astype(int) - full[step, 0, 0]).any()
    test = load_sprites("test", 32, cache_dir=tmp_path)
    [cache] = tmp_path.glob("sprites-32px-*.npz")          # named with a digest of the layers that built it
    written = cache.stat().st_mtime_ns
    assert len(test) == 296 * 9 and test.frames.shape[1:] == (8, 3, 32, 32)
    # the 32 px frames are 2x2 block means of the 64 px ones
    cid = int(test.character[0])
    ref = full[cid, 0].reshape(8, 32, 2, 32, 2, 3).mean((2, 4)).round().astype(np.uint8)
    np.testing.assert_array_equal(test.frames[0].permute(0, 2, 3, 1).numpy(), ref)
    again = load_sprites("test", 32, cache_dir=tmp_path, n_characters=3)   # read from the cache, not rebuilt
    assert cache.stat().st_mtime_ns == written and list(tmp_path.iterdir()) == [cache]
    assert torch.equal(again.frames, test.frames[:27]) and again.label9.tolist() == list(range(9)) * 3
    x = again.sequences(slice(0, 2))
    assert x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1

def test_judge_scores():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    s = judge_scores(probs, torch.tensor([0, 1, 1]))
    assert s["accuracy"] == pytest.approx(2 / 3)
    ent = lambda p: -(p * np.log(p)).sum()
    assert s["H(y|x)"] == pytest.approx(np.mean([ent(np.array(r)) for r in probs.tolist()]), rel=1e-5)
    assert s["H(y)"] == pytest.approx(ent(probs.mean(0).numpy()), rel=1e-5)
    uniform = judge_scores(torch.full((9, 9), 1 / 9), torch.arange(9))
    assert uniform["H(y)"] == pytest.approx(np.log(9), rel=1e-5) and uniform["H(y|x)"] == pytest.approx(np.log(9), rel=1e-5)

def test_start_anywhere_plays_each_clip_from_one_of_its_frames():
    seq = torch.rand(64, 8, 3, 4, 4)
    played = start_anywhere(as_clip_image(seq), torch.Generator().manual_seed(1)).view(64, 8, 3, 4, 4)
    starts = set()
    for clip, out in zip(seq, played):
        r = next(r for r in range(8) if torch.equal(out[0], clip[r]))      # the first frame played is frame r ...
        assert torch.equal(out, clip.roll(-r, 0))                          # ... and the loop goes on from there
        starts.add(r)
    assert starts == set(range(8))                                         # every start occurs
    with pytest.raises(ValueError, match="clip images"): start_anywhere(torch.zeros(2, 21, 4, 4))
