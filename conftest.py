"""Say in every test run's header which CPU kernels PyTorch uses, so an emulated pass is visible."""

import os


def pytest_report_header(config):
    import torch

    caps = {name: os.environ[name] for name in
            ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "OMP_NUM_THREADS")
            if name in os.environ}
    return (f"torch {torch.__version__}: {torch.backends.cpu.get_cpu_capability()} kernels, "
            f"{torch.get_num_threads()} threads; caps {caps or 'none'}")
