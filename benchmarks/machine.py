"""Which machine a benchmark ran on, stored beside its numbers.

Absolute times differ about threefold between the machines this course has run on, and even the
ranking of two settings can flip from one CPU to the next. A stored result therefore records the
CPU, the instruction set PyTorch's kernels use, the thread count, any emulation caps that were set,
and the load average, and the chapters print ``label`` next to every stored time.
"""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

import torch

# Environment variables that cap the kernels PyTorch, oneDNN and MKL choose (see the Makefile's
# emulated test passes); a benchmark run under any of them is not a native run.
CAPS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "OMP_NUM_THREADS")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or platform's guess elsewhere."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe() -> dict:
    """A JSON-ready description of this machine and of how torch runs on it."""
    info = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "caps": {name: os.environ[name] for name in CAPS if name in os.environ},
        "date": datetime.date.today().isoformat(),
        "load_average_before": [round(v, 2) for v in os.getloadavg()],
    }
    info["label"] = (f"{info['cpu']}, {info['logical_cpus']} logical CPUs, {info['torch_cpu_capability']} "
                     f"kernels, {info['threads']} threads, torch {info['torch']}, {info['date']}")
    return info
