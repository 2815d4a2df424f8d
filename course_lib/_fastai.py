"""The parts of fastai the course uses, imported without the warning fastai's import raises.

fastai 2.8 calls ``torch.jit.script`` at import time, which PyTorch 2.14
answers with a ``FutureWarning`` that has nothing to do with the student's
code. Modules that need fastai import it from here, inside a function, so
that importing ``course_lib`` itself stays cheap.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
    import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar)
    import fastai.callback.schedule  # noqa: F401  (adds Learner.fit_one_cycle and lr_find)
    from fastai.callback.hook import ActivationStats
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.learner import Learner
    from fastai.metrics import accuracy

__all__ = ["ActivationStats", "DataLoader", "DataLoaders", "Learner", "accuracy"]
