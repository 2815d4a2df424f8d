"""course_lib: the shared code of the open course on convolutional networks.

Every chapter imports from here, e.g. ``from course_lib import conv_output_size``.
Importing the package is cheap: data loads only when a function asks for it.
"""

from .activations import (
    HistogramRecorder,
    capture_output,
    lowest_bin_share,
    plot_colorful_dimension,
    plot_feature_maps,
    plot_kernels,
)
from .batchnorm import BatchNorm2dScratch, batch_stats
from .checks import CheckResult, check
from .data import MNIST, MNISTFileError, load_mnist, mnist_dls, normalize
from .fast_train import (
    FastResult,
    evaluate,
    fastai_batch_order,
    fastai_one_cycle,
    fit_one_cycle_fast,
)
from .glue import glue
from .matmul import (
    MatmulConv2d,
    conv2d_loops,
    conv2d_matmul,
    conv_matrix,
    im2col_bytes,
    release_workspace,
    use_matmul_convs,
)
from .models import conv, simple_cnn, simple_net
from .precision import gradient_error_vs_float64
from .receptive import empirical_receptive_field, receptive_field, receptive_region
from .schedules import OneCycle, cosine_anneal, one_cycle_schedule, plot_one_cycle
from .seeding import set_seed
from .shapes import conv_output_size, same_padding
from .stats import block_activation_stats, block_outputs, layer_stats, near_zero_fraction, plot_layer_stats
from .summary import layer_summary
from .training import TrainResult, make_learner, plot_seed_spread, seed_table, train, train_seeds

__all__ = [
    "MatmulConv2d",
    "conv2d_loops",
    "conv2d_matmul",
    "conv_matrix",
    "im2col_bytes",
    "release_workspace",
    "use_matmul_convs",
    "BatchNorm2dScratch",
    "FastResult",
    "HistogramRecorder",
    "batch_stats",
    "capture_output",
    "evaluate",
    "fastai_batch_order",
    "fastai_one_cycle",
    "fit_one_cycle_fast",
    "gradient_error_vs_float64",
    "lowest_bin_share",
    "plot_colorful_dimension",
    "plot_feature_maps",
    "plot_kernels",
    "MNIST",
    "CheckResult",
    "MNISTFileError",
    "check",
    "glue",
    "conv_output_size",
    "load_mnist",
    "mnist_dls",
    "normalize",
    "same_padding",
    "set_seed",
    "conv",
    "simple_cnn",
    "simple_net",
    "receptive_field",
    "receptive_region",
    "empirical_receptive_field",
    "layer_summary",
    "OneCycle",
    "cosine_anneal",
    "one_cycle_schedule",
    "plot_one_cycle",
    "block_activation_stats",
    "block_outputs",
    "layer_stats",
    "near_zero_fraction",
    "plot_layer_stats",
    "TrainResult",
    "make_learner",
    "plot_seed_spread",
    "seed_table",
    "train",
    "train_seeds",
]
__version__ = "0.1.0"
