"""Word vocabularies and word vectors for text models.

The vocabulary comes from training data only (ids 0 = padding, 1 = unknown word). Vectors
are random, read from a word2vec file (text or binary format, told apart by content), or
trained on the corpus's own sentences with gensim's word2vec.
"""

import collections
import os
from collections.abc import Iterable, Sequence

import numpy as np

from pgx_jax.errors import PgxError

PAD, UNK = "<pad>", "<unk>"


class Vocabulary:
    """Words to ids and back; unknown words map to id 1."""

    def __init__(self, words: Sequence[str]):
        self.words = [PAD, UNK, *[w for w in words if w not in (PAD, UNK)]]
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def ids(self, tokens: Iterable[str]) -> list[int]:
        return [self.index.get(t, 1) for t in tokens]

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 1) -> "Vocabulary":
        """Words seen at least `min_count` times, most frequent first (ties alphabetical)."""
        counts = collections.Counter(t for s in sentences for t in s)
        kept = sorted(
            (w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w)
        )
        return cls(kept)

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(self.words[2:]) + "\n")

    @classmethod
    def load(cls, path: str) -> "Vocabulary":
        with open(path, encoding="utf-8") as f:
            return cls([line.rstrip("\n") for line in f if line.rstrip("\n")])


def _is_binary(path: str) -> bool:
    """word2vec binary files have raw float bytes after the header line; text files do not."""
    with open(path, "rb") as f:
        f.readline()
        chunk = f.read(4096)
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start < len(chunk) - 4  # a bad byte well inside, not a cut multibyte char
    return False


def read_word2vec(path: str) -> dict[str, np.ndarray]:
    """A word2vec file (header `count dim`, then words with vectors; text or binary)."""
    if not os.path.isfile(path):
        raise PgxError(f"word vectors: file not found: {path}")
    binary = _is_binary(path)
    vectors = {}
    with open(path, "rb") as f:
        header = f.readline().split()
        if len(header) != 2 or not all(h.isdigit() for h in header):
            raise PgxError(f"{path}: line 1: expected a word2vec header 'count dim'")
        count, dim = int(header[0]), int(header[1])
        for n in range(count):
            if binary:
                word = bytearray()
                while (ch := f.read(1)) not in (b" ", b""):
                    if ch != b"\n":
                        word += ch
                data = f.read(4 * dim)
                if len(data) != 4 * dim:
                    raise PgxError(f"{path}: vector {n + 1}: file ends inside the vector")
                vectors[word.decode("utf-8", "replace")] = np.frombuffer(data, "<f4").copy()
            else:
                parts = f.readline().rstrip().split(b" ")
                if len(parts) != dim + 1:
                    raise PgxError(f"{path}: line {n + 2}: {len(parts) - 1} values, expected {dim}")
                vectors[parts[0].decode("utf-8", "replace")] = np.array(parts[1:], np.float32)
    return vectors


def write_word2vec(path: str, vectors: dict[str, np.ndarray], binary: bool = False) -> None:
    """Write vectors in word2vec text or binary format."""
    dim = len(next(iter(vectors.values())))
    with open(path, "wb") as f:
        f.write(f"{len(vectors)} {dim}\n".encode())
        for word, vector in vectors.items():
            vector = np.asarray(vector, "<f4")
            if binary:
                f.write(word.encode() + b" " + vector.tobytes())
            else:
                f.write((word + " " + " ".join(f"{v:.6f}" for v in vector) + "\n").encode())


def train_word2vec(
    sentences: Sequence[Sequence[str]], dim: int, seed: int, epochs: int = 20, window: int = 5
) -> dict[str, np.ndarray]:
    """Skip-gram vectors trained on `sentences` (single worker, so the result is repeatable)."""
    from gensim.models import Word2Vec

    model = Word2Vec(
        [list(s) for s in sentences],
        vector_size=dim,
        window=window,
        min_count=1,
        sg=1,
        seed=seed,
        workers=1,
        epochs=epochs,
    )
    return {w: model.wv[w] for w in model.wv.index_to_key}


def embedding_matrix(
    vocabulary: Vocabulary, vectors: dict[str, np.ndarray], dim: int, seed: int
) -> tuple[np.ndarray, int]:
    """[len(vocabulary), dim] matrix: known vectors, small random rows elsewhere, zero padding.

    Returns the matrix and how many vocabulary words had a vector.
    """
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, 0.1, (len(vocabulary), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for i, word in enumerate(vocabulary.words[1:], start=1):
        vector = vectors.get(word)
        if vector is None:
            vector = vectors.get(word.lower())
        if vector is not None:
            if len(vector) != dim:
                raise PgxError(f"word vectors: {word!r} has {len(vector)} values, expected {dim}")
            matrix[i] = vector
            found += 1
    return matrix, found
