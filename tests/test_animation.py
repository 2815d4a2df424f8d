"""The kernel-sliding pictures of chapter 1."""

import io

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from course_lib.animation import conv_animation, covered_pixels, plot_conv_grid
from course_lib.shapes import conv_output_size


@pytest.mark.parametrize(
    ("n", "ks", "stride", "padding", "dilation"),
    [(5, 3, 1, 0, 1), (5, 3, 2, 1, 1), (6, 2, 2, 0, 1), (5, 3, 1, 1, 2), (4, 1, 1, 0, 1)],
)
def test_animation_has_one_frame_per_output_pixel(n, ks, stride, padding, dilation):
    anim = conv_animation(n, ks, stride, padding, dilation)
    m = conv_output_size(n, ks, stride, padding, dilation)
    gif = Image.open(io.BytesIO(anim.gif))
    assert gif.format == "GIF" and gif.n_frames == anim.frames == m * m
    assert anim.output_size == m
    html = anim._repr_html_()
    assert html.startswith('<img class="conv-animation" src="data:image/gif;base64,') and "alt=" in html


def test_still_figure_is_the_animations_frame():
    fig = plot_conv_grid(5, 3, stride=2, padding=1, step=4)
    assert len(fig.axes) == 1 and len(fig.axes[0].images) == 1
    still = fig.axes[0].images[0].get_array()
    gif = Image.open(io.BytesIO(conv_animation(5, 3, 2, 1).gif))
    gif.seek(4)
    assert still.shape[1] > gif.width and still.shape[0] > gif.height  # the same picture, drawn larger


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 7), ks=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 2),
       dilation=st.integers(1, 2), data=st.data())
def test_covered_pixels_are_the_inputs_conv2d_reads(n, ks, stride, padding, dilation, data):
    span = dilation * (ks - 1) + 1
    assume(n + 2 * padding >= span)
    m = conv_output_size(n, ks, stride, padding, dilation)
    step = data.draw(st.integers(0, m * m - 1))
    x = torch.zeros(1, 1, n + 2 * padding, n + 2 * padding, requires_grad=True)
    out = F.conv2d(x, torch.ones(1, 1, ks, ks), stride=stride, dilation=dilation)  # padding is already in x
    out[0, 0, step // m, step % m].backward()
    read = {tuple(rc) for rc in torch.nonzero(x.grad[0, 0]).tolist()}
    assert covered_pixels(ks, stride, dilation, step, m) == read


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n=5, ks=7), r"kernel is larger than the padded input"),
        (dict(n=5, ks=3, stride=0), r"stride must be a positive int, got 0"),
        (dict(n=15, ks=3, padding=1), r"at most 16 pixels"),
        (dict(n=5, ks=3, ms_per_frame=5), r"ms_per_frame must be an int >= 20, got 5"),
    ],
)
def test_animation_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_animation(**kwargs)


def test_still_figure_rejects_a_step_past_the_end():
    with pytest.raises(ValueError, match=r"step must be below the number of output positions 9, got 9"):
        plot_conv_grid(5, 3, step=9)
