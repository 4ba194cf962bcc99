"""Speed of the tagger: throughput against plain jieba, latency per message, start-up, memory.

    uv run python benchmarks/tagger_speed.py [--data ../shared/data/tipdm2020/unlabeled.csv]

- throughput: ``Tagger.tag`` and ``jieba.lcut(text, HMM=False)`` on the same texts in one process
  (best of --rounds, alternating), as characters per second and as a ratio (target ≥ 0.75);
- the same ratio for the ``minsheng tag --jsonl`` process (its time after the first answer);
- p50 / p99 time per message, overall and for messages up to 1,000 characters (target p99 < 5 ms);
- time from process start to the first tag of ``minsheng tag --jsonl`` with a warm cache (< 1.5 s);
- peak memory (max RSS) of the ``minsheng tag --jsonl`` process over all texts.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def read_texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as file:
        return [row["text"] for row in csv.DictReader(file) if (row.get("text") or "").strip()]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def jsonl_process(texts: list[str]) -> tuple[float, float, float]:
    """Run ``minsheng tag --jsonl`` on the texts: seconds to the first answer, seconds for the rest,
    peak RSS in MiB."""
    lines = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts))
    command = [sys.executable, "-c", "from minsheng.cli import main; main()", "tag", "--jsonl"]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO, text=True
    )
    assert process.stdin and process.stdout
    process.stdin.write(lines.split("\n", 1)[0] + "\n")
    process.stdin.flush()
    process.stdout.readline()
    first = time.perf_counter() - started
    # The process reads stdin line by line, so the first answer came before the rest was sent.
    rest_started = time.perf_counter()
    output, _ = process.communicate(lines.split("\n", 1)[1])
    rest = time.perf_counter() - rest_started
    if output.count("\n") != len(texts) - 1:
        raise RuntimeError("minsheng tag --jsonl did not answer every line")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return first, rest, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "tipdm2020" / "unlabeled.csv")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jsonl-texts", type=int, default=0, help="texts for the jsonl process runs (0: all)")
    args = parser.parse_args()

    import jieba

    from nlp.tagger import Tagger
    from storage.catalogue import load_catalogue

    logging.getLogger("jieba").setLevel(logging.WARNING)
    texts = read_texts(args.data)
    chars = sum(len(t) for t in texts)
    tagger = Tagger.load(REPO / "nlp" / "rules", load_catalogue(REPO / "storage" / "data" / "agencies.yaml").agencies)
    jieba.initialize()
    for text in texts[:200]:  # warm both
        jieba.lcut(text, HMM=False)
        tagger.tag(text)

    jieba_best = tag_best = float("inf")
    latencies: list[float] = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for text in texts:
            jieba.lcut(text, HMM=False)
        jieba_best = min(jieba_best, time.perf_counter() - started)
        latencies = []
        started = time.perf_counter()
        for text in texts:
            begin = time.perf_counter()
            tagger.tag(text)
            latencies.append(time.perf_counter() - begin)
        tag_best = min(tag_best, time.perf_counter() - started)
    short = [lat for lat, text in zip(latencies, texts, strict=True) if len(text) <= 1000]

    jsonl_texts = texts[: args.jsonl_texts] if args.jsonl_texts else texts
    jsonl_chars = sum(len(t) for t in jsonl_texts[1:])
    first_times = []
    for _ in range(3):  # the first run may build the caches; report the warm ones
        first, rest, peak = jsonl_process(jsonl_texts)
        first_times.append(first)
    first_warm = statistics.median(first_times[1:])

    jieba_rate, tag_rate, jsonl_rate = chars / jieba_best, chars / tag_best, jsonl_chars / rest
    print(f"{len(texts)} texts, {chars} characters, mean {chars / len(texts):.0f}; best of {args.rounds} rounds")
    print(f"jieba.lcut(HMM=False): {jieba_rate / 1000:.0f} k chars/s ({jieba_best:.2f} s)")
    print(f"Tagger.tag:            {tag_rate / 1000:.0f} k chars/s ({tag_best:.2f} s)")
    print(
        f"minsheng tag --jsonl:  {jsonl_rate / 1000:.0f} k chars/s after the first answer"
        f" ({rest:.2f} s, {len(jsonl_texts)} texts)"
    )
    print(
        f"SUMMARY tag/jieba throughput {tag_rate / jieba_rate:.2f} (jsonl process {jsonl_rate / jieba_rate:.2f})"
        f" | p50 {statistics.median(latencies) * 1000:.2f} ms p99 {percentile(latencies, 0.99) * 1000:.2f} ms"
        f" (≤1000 chars: p99 {percentile(short, 0.99) * 1000:.2f} ms, {len(short)} texts)"
        f" | first tag {first_warm:.2f} s after process start (warm cache)"
        f" | peak RSS {peak:.0f} MiB (jsonl process) | cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
