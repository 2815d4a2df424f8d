"""Pictures of a kernel sliding over a padded input: a still figure and an animated GIF.

Taught in: chapters/01_convolutions_and_shapes
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from ._validate import check_int
from .shapes import conv_output_size

_INPUT, _PAD, _HIT, _OUT, _OUT_DONE, _OUT_NOW = "#dbe7f3", "#f2f2f2", "#1f77b4", "#fff4e0", "#f7c97e", "#e8590c"


def _draw(ax_in, ax_out, n, ks, stride, padding, dilation, step):
    """Draw the input (with padding) and output grids, highlighting output position ``step``."""
    from matplotlib.patches import Rectangle

    m = conv_output_size(n, ks, stride, padding, dilation)
    size = n + 2 * padding
    i, j = divmod(step, m) if step is not None else (None, None)
    covered = set()
    if step is not None:
        covered = {(i * stride + a * dilation, j * stride + b * dilation) for a in range(ks) for b in range(ks)}
    for ax in (ax_in, ax_out):
        ax.clear()
        ax.set_aspect("equal")
        ax.axis("off")
    for r in range(size):
        for c in range(size):
            inside = padding <= r < padding + n and padding <= c < padding + n
            face = _INPUT if inside else _PAD
            ax_in.add_patch(Rectangle((c, size - 1 - r), 1, 1, facecolor=face, edgecolor="#7f7f7f",
                                      linestyle="-" if inside else ":", linewidth=0.8))
            if (r, c) in covered:
                ax_in.add_patch(Rectangle((c + 0.1, size - 1 - r + 0.1), 0.8, 0.8, facecolor=_HIT, alpha=0.75))
    ax_in.set_xlim(-0.2, size + 0.2)
    ax_in.set_ylim(-0.2, size + 0.2)
    ax_in.set_title(f"input {n}×{n}, padding {padding}", fontsize=9)
    for r in range(m):
        for c in range(m):
            k = r * m + c
            face = _OUT
            if step is not None and k < step:
                face = _OUT_DONE
            if step is not None and k == step:
                face = _OUT_NOW
            ax_out.add_patch(Rectangle((c, m - 1 - r), 1, 1, facecolor=face, edgecolor="#7f7f7f", linewidth=0.8))
    ax_out.set_xlim(-0.2, max(m, 1) + 0.2)
    ax_out.set_ylim(-0.2 - (size - m) / 2, m + 0.2 + (size - m) / 2)
    ax_out.set_title(f"output {m}×{m}", fontsize=9)


def _validate(n, ks, stride, padding, dilation):
    check_int("n", n, minimum=1)
    check_int("ks", ks, minimum=1)
    check_int("stride", stride, minimum=1)
    check_int("padding", padding, minimum=0)
    check_int("dilation", dilation, minimum=1)
    m = conv_output_size(n, ks, stride, padding, dilation)  # also rejects a kernel larger than the input
    if n + 2 * padding > 16 or m * m > 64:
        raise ValueError(f"the picture is limited to a padded input of at most 16 pixels and at most 64 "
                         f"output positions, got n + 2*padding = {n + 2 * padding} and {m}×{m} outputs")
    return m


def plot_conv_grid(n: int = 5, ks: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1, step: int = 0):
    """A still figure: the padded input, the pixels the kernel covers at output ``step``, and the output grid.

    Padding cells are grey and dotted, the kernel's pixels blue, and the output cell being
    computed orange. Returns the matplotlib figure.

    Taught in: chapters/01_convolutions_and_shapes
    """
    import matplotlib.pyplot as plt

    m = _validate(n, ks, stride, padding, dilation)
    check_int("step", step, minimum=0)
    if step >= m * m:
        raise ValueError(f"step must be below the number of output positions {m * m}, got {step}")
    fig, (a, b) = plt.subplots(1, 2, figsize=(5.6, 2.8), dpi=80, gridspec_kw={"width_ratios": [1, 1]})
    _draw(a, b, n, ks, stride, padding, dilation, step)
    fig.suptitle(f"ks={ks}, stride={stride}, padding={padding}, dilation={dilation}", fontsize=10)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.8, wspace=0.1)
    return fig


@dataclass
class ConvAnimation:
    """An animated GIF of a convolution; shows itself in a notebook and on the web page.

    Taught in: chapters/01_convolutions_and_shapes
    """

    gif: bytes
    frames: int
    n: int
    ks: int
    stride: int
    padding: int
    dilation: int

    @property
    def output_size(self) -> int:
        return conv_output_size(self.n, self.ks, self.stride, self.padding, self.dilation)

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.gif).decode("ascii")
        alt = (f"Animation: a {self.ks}×{self.ks} kernel with stride {self.stride}, padding {self.padding} "
               f"and dilation {self.dilation} sliding over a {self.n}×{self.n} input")
        return f'<img class="conv-animation" src="data:image/gif;base64,{data}" alt="{alt}" />'

    def __repr__(self) -> str:
        return (f"ConvAnimation(n={self.n}, ks={self.ks}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}: {self.frames} frames, output {self.output_size}×{self.output_size})")

    def save(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self.gif)


def conv_animation(n: int = 5, ks: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1,
                   ms_per_frame: int = 600) -> ConvAnimation:
    """Animate a ``ks``×``ks`` kernel sliding over an ``n``×``n`` input, one frame per output pixel.

    Works for any kernel size, stride, padding and dilation whose picture fits (a padded input
    of at most 16 pixels). The frames are drawn with matplotlib and stored as a looping GIF,
    so the animation plays in a notebook, on the course website, and offline.

    Taught in: chapters/01_convolutions_and_shapes
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    m = _validate(n, ks, stride, padding, dilation)
    check_int("ms_per_frame", ms_per_frame, minimum=20)
    fig = Figure(figsize=(5.2, 2.9), dpi=80)
    canvas = FigureCanvasAgg(fig)
    a, b = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.8, wspace=0.1)
    images = []
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        for step in range(m * m):
            _draw(a, b, n, ks, stride, padding, dilation, step)
            fig.suptitle(f"ks={ks}, stride={stride}, padding={padding}, dilation={dilation}", fontsize=9)
            canvas.draw()
            rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
            images.append(rgba.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=32))
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=ms_per_frame,
                   loop=0, optimize=True)
    return ConvAnimation(buf.getvalue(), len(images), n, ks, stride, padding, dilation)
