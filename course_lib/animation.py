"""Pictures of a kernel sliding over a padded input, drawn once with Pillow: an animated GIF and a still frame.

Taught in: chapters/01_convolutions_and_shapes
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from ._validate import check_int
from .shapes import conv_output_size

_INPUT, _PAD, _HIT, _OUT, _OUT_DONE, _OUT_NOW = "#dbe7f3", "#f2f2f2", "#1f77b4", "#fff4e0", "#f7c97e", "#e8590c"


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


def covered_pixels(ks: int, stride: int, dilation: int, step: int, m: int) -> set[tuple[int, int]]:
    """The (row, col) cells of the padded input that the kernel covers for output position ``step``.

    Output position ``step`` is row ``step // m``, column ``step % m`` of the
    ``m``×``m`` output; its kernel's top-left tap sits at ``(row*stride,
    col*stride)`` of the padded input, and the taps are ``dilation`` apart.

    Taught in: chapters/01_convolutions_and_shapes
    """
    i, j = divmod(step, m)
    return {(i * stride + a * dilation, j * stride + b * dilation) for a in range(ks) for b in range(ks)}


def plot_conv_grid(n: int = 5, ks: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1, step: int = 0):
    """A still figure: the padded input, the pixels the kernel covers at output ``step``, and the output grid.

    Padding cells are light grey, the input light blue, the kernel's pixels dark blue, and on the
    output grid the cell being computed dark orange, the cells already computed light orange and
    those not yet computed pale cream: the frame ``step`` of :func:`conv_animation`, drawn by the same code and
    shown as a matplotlib figure, which the function returns.

    Taught in: chapters/01_convolutions_and_shapes
    """
    import matplotlib.pyplot as plt
    import numpy as np

    m = _validate(n, ks, stride, padding, dilation)
    check_int("step", step, minimum=0)
    if step >= m * m:
        raise ValueError(f"step must be below the number of output positions {m * m}, got {step}")
    image = _render_frame(n, ks, stride, padding, dilation, m, step, cell=44)
    dpi = 100
    fig = plt.figure(figsize=(image.width / dpi, image.height / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(np.asarray(image))
    ax.axis("off")
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


def _font(size: int):
    """DejaVu Sans, which ships inside matplotlib, so text looks the same everywhere."""
    from pathlib import Path

    import matplotlib
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size)


def _render_frame(n, ks, stride, padding, dilation, m, step, cell=22):
    """Draw output position ``step`` with Pillow: the padded input, the kernel's pixels and the output grid."""
    from PIL import Image, ImageDraw

    size = n + 2 * padding
    margin, gap, top = cell // 2 + 1, 3 * cell, 56 * cell // 22
    width = 2 * margin + size * cell + gap + m * cell
    height = top + size * cell + margin
    out_x, out_y = margin + size * cell + gap, top + (size - m) * cell // 2
    title, label = _font(13 * cell // 22), _font(12 * cell // 22)
    inset = max(3, 3 * cell // 22)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((width // 2, 8), f"ks={ks}, stride={stride}, padding={padding}, dilation={dilation}",
              fill="black", font=title, anchor="mt")
    draw.text((margin + size * cell // 2, top - 8), f"input {n}×{n}, padding {padding}",
              fill="black", font=label, anchor="mb")
    draw.text((out_x + m * cell // 2, out_y - 8), f"output {m}×{m}", fill="black", font=label, anchor="mb")
    covered = covered_pixels(ks, stride, dilation, step, m)
    for r in range(size):
        for c in range(size):
            inside = padding <= r < padding + n and padding <= c < padding + n
            x0, y0 = margin + c * cell, top + r * cell
            draw.rectangle([x0, y0, x0 + cell, y0 + cell], fill=_INPUT if inside else _PAD,
                           outline="#7f7f7f" if inside else "#c0c0c0")
            if (r, c) in covered:
                draw.rectangle([x0 + inset, y0 + inset, x0 + cell - inset, y0 + cell - inset], fill=_HIT)
    for k in range(m * m):
        r, c = divmod(k, m)
        x0, y0 = out_x + c * cell, out_y + r * cell
        fill = _OUT_DONE if k < step else _OUT_NOW if k == step else _OUT
        draw.rectangle([x0, y0, x0 + cell, y0 + cell], fill=fill, outline="#7f7f7f")
    return img


def conv_animation(n: int = 5, ks: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1,
                   ms_per_frame: int = 600) -> ConvAnimation:
    """Animate a ``ks``×``ks`` kernel sliding over an ``n``×``n`` input, one frame per output pixel.

    Works for any kernel size, stride, padding and dilation whose picture fits (a padded input
    of at most 16 pixels). Dark blue cells are the input pixels the kernel covers, light grey cells
    padding; on the output grid the dark orange cell is being computed, light orange cells are
    done and pale cream cells are not computed yet. The frames are stored as a looping GIF,
    so the animation plays in a notebook, on the course website, and offline.

    Taught in: chapters/01_convolutions_and_shapes
    """
    m = _validate(n, ks, stride, padding, dilation)
    check_int("ms_per_frame", ms_per_frame, minimum=20)
    from PIL import Image

    images = [_render_frame(n, ks, stride, padding, dilation, m, step).convert(
        "P", palette=Image.Palette.ADAPTIVE, colors=32) for step in range(m * m)]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=ms_per_frame,
                   loop=0, optimize=True)
    return ConvAnimation(buf.getvalue(), len(images), n, ks, stride, padding, dilation)
