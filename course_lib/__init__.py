"""course_lib: the shared code of the open course on convolutional networks.

Every chapter imports from here, e.g. ``from course_lib import conv_output_size``. The package
re-exports what the chapters use; everything else is in its module, e.g. ``course_lib.mnist.MNIST``.
Importing the package is cheap: data loads only when a function asks for it.
"""

from .activation_stats import activation_stats, block_outputs, near_zero_fraction, plot_layer_stats
from .batchnorm import BatchNorm2dScratch, batch_stats, evaluate
from .checks import check
from .feature_maps import capture_output, plot_feature_maps, plot_kernels
from .glue import glue
from .loaders import mnist_dls
from .matmul import (
    MatmulConv2d,
    conv2d_loops,
    conv2d_matmul,
    conv_matrix,
    im2col_bytes,
    use_matmul_convs,
)
from .mnist import load_mnist, normalize
from .models import conv, simple_cnn, simple_net
from .precision import gradient_error_vs_float64
from .receptive import empirical_receptive_field, receptive_field, receptive_region
from .schedules import one_cycle_schedule, plot_one_cycle
from .seeding import set_seed
from .shapes import conv_output_size, same_padding
from .summary import layer_summary
from .training import make_learner, plot_seed_spread, seed_table, train, train_seeds

__all__ = [
    "activation_stats",
    "block_outputs",
    "near_zero_fraction",
    "plot_layer_stats",
    "BatchNorm2dScratch",
    "batch_stats",
    "evaluate",
    "check",
    "capture_output",
    "plot_feature_maps",
    "plot_kernels",
    "glue",
    "mnist_dls",
    "MatmulConv2d",
    "conv2d_loops",
    "conv2d_matmul",
    "conv_matrix",
    "im2col_bytes",
    "use_matmul_convs",
    "load_mnist",
    "normalize",
    "conv",
    "simple_cnn",
    "simple_net",
    "gradient_error_vs_float64",
    "empirical_receptive_field",
    "receptive_field",
    "receptive_region",
    "one_cycle_schedule",
    "plot_one_cycle",
    "set_seed",
    "conv_output_size",
    "same_padding",
    "layer_summary",
    "make_learner",
    "plot_seed_spread",
    "seed_table",
    "train",
    "train_seeds",
]
__version__ = "0.1.0"
