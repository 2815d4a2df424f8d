"""course_lib: the shared code of the open course on convolutional networks.

Every chapter imports from here, e.g. ``from course_lib import conv_output_size``.
Importing the package is cheap: data loads only when a function asks for it.
"""

from .checks import CheckResult, check
from .data import MNIST, MNISTFileError, load_mnist, mnist_dls, normalize
from .models import conv, simple_cnn, simple_net
from .receptive import empirical_receptive_field, receptive_field, receptive_region
from .seeding import set_seed
from .shapes import conv_output_size, same_padding
from .summary import layer_summary

__all__ = [
    "MNIST",
    "CheckResult",
    "MNISTFileError",
    "check",
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
]
__version__ = "0.1.0"
