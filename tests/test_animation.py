"""The kernel-sliding pictures of chapter 1."""

import io

import pytest
from PIL import Image

from course_lib.animation import conv_animation, plot_conv_grid
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


def test_still_figure_has_input_and_output_panels():
    fig = plot_conv_grid(5, 3, stride=2, padding=1, step=8)
    assert len(fig.axes) == 2
    assert fig.axes[1].get_title() == "output 3×3"


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
