"""Seconds per epoch against batch size: chapter 4's simple_cnn, one epoch of fit_one_cycle at 0.06.

For batch sizes 128, 256, 512 and 1024 this trains seed 0 through ``course_lib.train`` (fastai's
Learner) with chapter 4's settings, unhooked and in its own process, and times the whole epoch
(training and the pass over the 10,000 test digits). Float sums can round differently from the
chapter's run (another process, possibly another machine), so the same seed can end at a slightly
different accuracy than the chapter shows. The sizes run in interleaved rounds and each keeps its fastest round, which
is the least disturbed by other processes. Whether a larger batch makes an epoch faster may depend
on the CPU, so the result records the machine (benchmarks/machine.py).

Writes benchmarks/results/batch_size.json.
Usage: OMP_NUM_THREADS=2 python benchmarks/bench_batch_size.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from machine import describe

from course_lib import simple_cnn, train

SIZES = (128, 256, 512, 1024)
RESULT = Path(__file__).resolve().parent / "results" / "batch_size.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    machine = describe()
    seconds = {bs: [] for bs in SIZES}
    accuracy = {}
    for round_ in range(args.rounds):
        for bs in SIZES:
            r = train(simple_cnn, bs=bs, seed=0, lr=0.06, quiet=True, keep_data=False)
            seconds[bs].append(r.seconds)
            accuracy[bs] = r.accuracy
            print(f"round {round_}: bs {bs:5d} {r.seconds:5.2f} s, accuracy {r.accuracy:.4f}", flush=True)
    rows = [{"bs": bs, "steps": 60000 // bs, "seconds_per_epoch": round(min(seconds[bs]), 2),
             "ms_per_step": round(1000 * min(seconds[bs]) / (60000 // bs), 1),
             "accuracy": round(accuracy[bs], 4)} for bs in SIZES]
    fastest = min(rows, key=lambda row: row["seconds_per_epoch"])
    out = {"what": "simple_cnn, fit_one_cycle(1, 0.06), seed 0, fastai Learner; fastest of "
                   f"{args.rounds} interleaved rounds per batch size",
           "machine": machine, "rows": rows, "fastest_bs": fastest["bs"],
           "ratio_128_over_1024": round(rows[0]["seconds_per_epoch"] / rows[-1]["seconds_per_epoch"], 2)}
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
