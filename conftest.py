"""The environment every test run needs, and a header saying which CPU kernels PyTorch uses.

`make test` and a plain `pytest` behave the same: the settings the notebooks and tests rely on are
set here, before any test module imports torch, unless the caller chose otherwise. The notebooks'
kernels inherit them. (PYTHONHASHSEED only takes effect in processes started from here on, which
is where the notebooks run.)
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # the course targets 2 CPU cores
os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.setdefault("COURSE_LIB_QUIET", "1")  # stored notebooks hold no progress bars


def pytest_report_header(config):
    import torch

    caps = {name: os.environ[name] for name in
            ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "OMP_NUM_THREADS")
            if name in os.environ}
    return (f"torch {torch.__version__}: {torch.backends.cpu.get_cpu_capability()} kernels, "
            f"{torch.get_num_threads()} threads; caps {caps or 'none'}")
