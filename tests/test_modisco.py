"""TF-MoDISco through `pgx_jax/interpret/modisco.py`: modisco-lite in a subprocess on a small
synthetic attribution set (the CTCF consensus planted in random sequences, contributions on
its letters) finds the planted motif, reads back as a pattern with its seqlet count, and
TomTom names it CTCF with q < 0.05, `pgx motifs`' files and the report's table name it too;
a failing run is one error line. (`pgx motifs --method
modisco` on the default run: docs/interpretation.md.)"""

import numpy as np
import pytest

from pgx_jax.commands.motifs import write_patterns
from pgx_jax.data.jaspar import jaspar_pfm
from pgx_jax.errors import PgxError
from pgx_jax.interpret import modisco
from pgx_jax.interpret.meme import read_meme
from pgx_jax.interpret.report import modisco_section

LENGTH, COUNT = 60, 200


def _planted(seed: int = 0):
    """One-hot sequences with the CTCF consensus at a random place in each (its reverse
    complement in half of them), and hypothetical contributions: the consensus letter's
    JASPAR probability for each letter of the planted site, plus noise (sd 0.1) everywhere."""
    rng = np.random.default_rng(seed)
    pfm = jaspar_pfm("MA0139.2")
    site, weight = pfm.argmax(axis=1), pfm.max(axis=1)[:, None].astype(np.float32)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (COUNT, LENGTH))]
    hypothetical = rng.normal(0, 0.1, x.shape).astype(np.float32)
    for i in range(COUNT):
        start = rng.integers(5, LENGTH - len(site) - 5)
        letters, w = (site, weight) if i % 2 else ((3 - site)[::-1], weight[::-1])
        x[i, start : start + len(site)] = np.eye(4)[letters]
        hypothetical[i, start : start + len(site)] += np.eye(4, dtype=np.float32)[letters] * w
    return x, hypothetical, site


def test_modisco_subprocess_finds_the_planted_motif_and_tomtom_names_it(tmp_path):
    x, hypothetical, site = _planted()
    path = modisco.run_modisco(
        x, hypothetical, str(tmp_path), max_seqlets=500, sliding=15, flank=3, trim=25,
        initial_flank=3,
    )  # fmt: skip
    patterns = modisco.read_patterns(path)
    assert patterns[0]["name"] == "pos_patterns/pattern_0"
    # modisco-lite caps the windows that pass at a fifth of all: a fraction of the sites
    assert patterns[0]["seqlets"] >= 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["modisco_results.h5"]
    best = modisco.match_patterns(patterns[:1], top=2)[0]
    assert best["matches"][0]["name"] == "CTCF" and best["matches"][0]["q_value"] < 0.05
    core = best["pfm"][best["start"] : best["end"]].argmax(axis=1)
    text = "".join("ACGT"[i] for i in core)
    consensus = "".join("ACGT"[i] for i in site)
    reverse = "".join("ACGT"[3 - i] for i in site[::-1])
    assert text in consensus or text in reverse or consensus in text or reverse in text
    # what `pgx motifs --method modisco` writes, and the report's table of it
    settings = {"match_q": 0.05, "top": 2, "shuffles": 20, "sequences": COUNT}
    write_patterns([best], str(tmp_path), settings)
    assert read_meme(str(tmp_path / "modisco.meme"))[0][:2] == (
        "pos_patterns.pattern_0",
        f"{best['matches'][0]['matrix_id']}_CTCF",
    )
    section = modisco_section(str(tmp_path))
    assert f"<td>{best['matches'][0]['matrix_id']} CTCF (q " in section
    assert "logos/pattern_000.png" in section


def test_a_failing_modisco_run_is_one_error_line(tmp_path):
    x, hypothetical, _ = _planted()
    with pytest.raises(PgxError, match="modisco motifs failed"):
        modisco.run_modisco(x[:, :10], hypothetical[:, :10], str(tmp_path), sliding=20)
    with pytest.raises(PgxError, match="must both be"):
        modisco.run_modisco(x, hypothetical[:, :10], str(tmp_path))
