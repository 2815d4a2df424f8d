"""Chapter 3's exercise checks: right answers pass, wrong ones get the specific hint."""

import pytest
from torch import nn

from course_lib import check, empirical_receptive_field, layer_summary, receptive_field, receptive_region, simple_cnn
from course_lib.checks import ch03, ch03_fields


def height(setting):
    return setting[0] if isinstance(setting, (tuple, list)) else setting


def settings(model, axis=0):
    """(kernel, stride, padding, dilation, is_pool) of each windowed layer, along one axis."""
    def entry(v):
        return v[axis] if isinstance(v, (tuple, list)) else v

    return [(entry(layer.kernel_size), entry(layer.stride), entry(layer.padding),
             entry(getattr(layer, "dilation", 1)), not isinstance(layer, nn.Conv2d))
            for layer in model if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))]


def rf_from(layers, *, dilation=True, pools=True, pool_padding=True, late=False):
    r, jump, pad = 1, 1, 0
    for ks, stride, padding, dil, is_pool in layers:
        if is_pool and not pools:
            continue
        span = dil * (ks - 1) + 1 if dilation else ks
        padding = 0 if (is_pool and not pool_padding) else padding
        if late:
            jump *= stride
            r, pad = r + (span - 1) * jump, pad + padding * jump
        else:
            r, jump, pad = r + (span - 1) * jump, jump * stride, pad + padding * jump
    return r, jump, pad


def rf_params(model):
    return rf_from(settings(model))


@pytest.mark.parametrize(
    ("label", "answer"),
    [
        ("ex-ch3-first-kernel", 7),
        ("ex-ch3-macs", 20),
        ("ex-ch3-rf-function", rf_params),
        ("ex-ch3-rf-function", lambda model: list(rf_params(model))),
    ],
)
def test_right_answers_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


def rf_ignoring_dilation(model):
    return rf_from(settings(model), dilation=False)


def rf_skipping_pools(model):
    return rf_from(settings(model), pools=False)


def rf_without_pool_padding(model):
    return rf_from(settings(model), pool_padding=False)


def rf_ignoring_strides(model):
    return rf_from([(k, 1, p, d, pool) for k, _, p, d, pool in settings(model)])


def rf_updating_stride_first(model):
    return rf_from(settings(model), late=True)


def rf_late_padding(model):
    r, jump, pad = 1, 1, 0
    for ks, stride, padding, dilation, _ in settings(model):
        r += dilation * (ks - 1) * jump
        jump *= stride
        pad += padding * jump
    return r, jump, pad


def rf_width(model):
    return rf_from(settings(model, axis=1))


def rf_no_dilation_attribute(model):  # AvgPool2d has none
    r, jump, pad = 1, 1, 0
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            ks, stride, padding, dilation = (height(v) for v in (layer.kernel_size, layer.stride, layer.padding,
                                                                  layer.dilation))
            r, jump, pad = r + dilation * (ks - 1) * jump, jump * stride, pad + padding * jump
    return r, jump, pad


def rf_int_settings_unhandled(model):  # a pool's int settings have no [0]
    r, jump, pad = 1, 1, 0
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            ks, stride, padding = layer.kernel_size[0], layer.stride[0], layer.padding[0]
            r, jump, pad = r + (ks - 1) * jump, jump * stride, pad + padding * jump
    return r, jump, pad


def rf_every_layer_has_a_kernel(model):
    r = 1
    for layer in model:
        r += height(layer.kernel_size) - 1
    return r, 1, 0


def rf_size_only(model):
    return rf_params(model)[0]


def rf_floats(model):
    return tuple(float(v) for v in rf_params(model))


def rf_pair(model):
    return rf_params(model)[:2]


def rf_off_by_one(model):
    r, jump, pad = rf_params(model)
    return r + 1, jump, pad


def rf_stride_off(model):
    r, jump, pad = rf_params(model)
    return r, jump + 1, pad + 1


@pytest.mark.parametrize(
    ("label", "answer", "hint"),
    [
        ("ex-ch3-first-kernel", 3, "fewer than the 32"),
        ("ex-ch3-first-kernel", 4, "4 is even"),
        ("ex-ch3-first-kernel", 5, "the rule compares ratios"),
        ("ex-ch3-first-kernel", 11, "leaves the channels out"),
        ("ex-ch3-first-kernel", 9, "count what simple_cnn's first layer reads"),
        ("ex-ch3-first-kernel", 1, "count what simple_cnn's first layer reads"),
        ("ex-ch3-first-kernel", "7", "whole number"),
        ("ex-ch3-macs", 10, "once per output position"),
        ("ex-ch3-macs", 10, "the side of the input"),
        ("ex-ch3-macs", 19, "the floor drops a remainder"),
        ("ex-ch3-macs", 21, "largest output grid the budget allows"),
        ("ex-ch3-macs", 22, "lost its +1"),
        ("ex-ch3-macs", 23, "leaves out the padding"),
        ("ex-ch3-macs", 24, "leaves out the padding"),
        ("ex-ch3-macs", 56, "all 8 input channels"),
        ("ex-ch3-macs", 100, "24 output channels"),
        ("ex-ch3-macs", 480_000, "a number of MACs"),
        ("ex-ch3-macs", 691_200, "far too large for an image side"),
        ("ex-ch3-macs", 18, "largest output grid the budget allows"),
        ("ex-ch3-macs", 20.0, "whole number"),
        ("ex-ch3-macs", "20", "whole number"),
        ("ex-ch3-rf-function", rf_ignoring_dilation, "dilated span"),
        ("ex-ch3-rf-function", rf_skipping_pools, "you left out the pools"),
        ("ex-ch3-rf-function", rf_without_pool_padding, "you left out a pool's padding"),
        ("ex-ch3-rf-function", rf_ignoring_strides, "you ignored the strides"),
        ("ex-ch3-rf-function", rf_updating_stride_first, "you updated S before using it"),
        ("ex-ch3-rf-function", rf_late_padding, "P grew with the effective stride after"),
        ("ex-ch3-rf-function", rf_width, "that is the width axis"),
        ("ex-ch3-rf-function", rf_no_dilation_attribute, "AvgPool2d has no dilation attribute"),
        ("ex-ch3-rf-function", rf_int_settings_unhandled, "a pool keeps what it was given"),
        ("ex-ch3-rf-function", rf_every_layer_has_a_kernel, "they change nothing"),
        ("ex-ch3-rf-function", rf_off_by_one, "your r is not right there"),
        ("ex-ch3-rf-function", rf_stride_off, "your S and P are not right there"),
        ("ex-ch3-rf-function", rf_size_only, "return the tuple (r, S, P)"),
        ("ex-ch3-rf-function", rf_pair, "tuple (r, S, P) of three ints"),
        ("ex-ch3-rf-function", rf_floats, "whole numbers"),
        ("ex-ch3-rf-function", 7, "Pass your function itself"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed and hint in result.message, result.message


def test_generic_hints_do_not_hand_over_the_computation():
    for label, answer in [("ex-ch3-first-kernel", 1), ("ex-ch3-macs", 18)]:
        message = check(label, answer).message
        assert "*" not in message and ">=" not in message, message


def test_unanswered_function_is_not_answered_yet():
    def rf(model):
        raise NotImplementedError

    assert check("ex-ch3-rf-function", rf).status == "not answered yet"
    assert check("ex-ch3-two-stride2", None).status == "not answered yet"


def test_macs_answer_is_the_largest_input_that_fits_by_brute_force():
    conv = nn.Sequential(nn.Conv2d(8, 24, 5, stride=2, padding=2))
    macs = {side: layer_summary(conv, (8, side, side))[0].macs for side in range(1, 80)}
    assert all(macs[side] == ch03._macs_at(side) for side in macs)
    assert max(side for side, count in macs.items() if count <= 500_000) == 20
    assert (macs[19], macs[20], macs[21]) == (480_000, 480_000, 580_800)  # the floor matters


def test_every_hinted_macs_mistake_is_a_distinct_wrong_answer():
    mistakes = [10, 19, 22, 23, 24, 56, 100, 480_000]
    assert len(set(mistakes)) == len(mistakes) and 20 not in mistakes
    conv_side = {  # the largest side under each mistaken rule
        "no +1": max(h for h in range(5, 80) if ((h - 1) // 2) ** 2 * 4800 <= 500_000),
        "no padding": max(h for h in range(5, 80) if ((h - 5) // 2 + 1) ** 2 * 4800 <= 500_000),
        "padding on one side": max(h for h in range(5, 80) if ((h - 3) // 2 + 1) ** 2 * 4800 <= 500_000),
        "no input channels": max(h for h in range(5, 200) if ((h - 1) // 2 + 1) ** 2 * 600 <= 500_000),
    }
    assert conv_side == {"no +1": 22, "no padding": 24, "padding on one side": 22, "no input channels": 56}


def test_rf_reference_walk_agrees_with_receptive_field_on_every_stack():
    stacks = ch03.rf_stacks()
    assert len(stacks) == 30
    kinds = {type(layer) for stack in stacks for layer in stack}
    assert {nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.BatchNorm2d} <= kinds
    pair_settings = sum(isinstance(layer.kernel_size, tuple) and layer.kernel_size[0] != layer.kernel_size[1]
                        for stack in stacks for layer in stack if hasattr(layer, "kernel_size"))
    int_pools = sum(isinstance(layer.kernel_size, int) for stack in stacks for layer in stack
                    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)))
    assert pair_settings >= 5 and int_pools >= 5
    for stack in stacks:
        row = receptive_field(stack)[-1]
        expected = tuple(v[0] if isinstance(v, tuple) else v for v in (row.size, row.stride, row.padding))
        assert rf_params(stack) == expected == ch03._rf_along(ch03._settings_along(stack, 0))


def test_rf_function_cannot_wrap_the_library():
    import course_lib
    from course_lib.receptive import empirical_receptive_field as erf  # imported before the check runs
    from course_lib.receptive import receptive_field as rf

    def wraps_receptive_field(model):
        row = rf(model)[-1]
        return tuple(v[0] if isinstance(v, tuple) else v for v in (row.size, row.stride, row.padding))

    def wraps_package_receptive_field(model):
        row = course_lib.receptive_field(model)[-1]
        return row.size, row.stride, row.padding

    def wraps_layer_summary(model):
        row = layer_summary(model, (1, 64, 64))[-1]
        return row.rf_size, row.rf_stride, 0

    def wraps_receptive_region(model):
        rows, _ = receptive_region(model, (1, 256, 256), layer=-1, unit=(0, 0))
        return rows.stop - rows.start, 1, 0

    def wraps_empirical_receptive_field(model):
        rows, _ = erf(model, (1, 256, 256), layer=-1, unit=(0, 0))
        return rows.stop - rows.start, 1, 0

    def wraps_the_walk(model):
        from course_lib.layers import layer_spec, receptive_step

        r, jump, pad = (1, 1), (1, 1), (0, 0)
        for layer in model:
            r, jump, pad = receptive_step(r, jump, pad, layer_spec("", layer))
        return r[0], jump[0], pad[0]

    for fn in (wraps_receptive_field, wraps_package_receptive_field, wraps_layer_summary, wraps_receptive_region,
               wraps_empirical_receptive_field, wraps_the_walk):
        result = check("ex-ch3-rf-function", fn)
        assert not result.passed and "recurrences yourself" in result.message, (fn.__name__, result.message)
    assert rf(nn.Sequential(nn.Conv2d(1, 1, 3)))[-1].size == 3  # unpatched again
    assert course_lib.receptive_field(nn.Sequential(nn.MaxPool2d(2)))[-1].stride == 2


@pytest.mark.parametrize(("label", "answer", "step"), [
    ("ex-ch3-first-kernel", 7, 2), ("ex-ch3-macs", 20, 1),
])
def test_no_hints_on_both_neighbours_of_the_answer(label, answer, step):
    """Specific hints on both sides of the answer would bracket it; at most one neighbour gets one."""
    generic = [f" is {v}; that is not it." in check(label, v).message for v in (answer - step, answer + step)]
    assert any(generic), [check(label, v).message for v in (answer - step, answer + step)]
    for far in range(answer + step, answer + 40 * step, step):  # and no "a smaller one does too" above it
        assert "smaller" not in check(label, far).message, far


def test_rf_function_cannot_call_the_checks_own_walk():
    from course_lib.checks.ch03 import _rf_along, _settings_along  # imported before the check runs

    def wraps_rf_along(model):
        settings = []
        for layer in model:  # the settings by hand, then the check's own recurrences
            if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
                kind = "conv" if isinstance(layer, nn.Conv2d) else "pool"
                settings.append((kind, height(layer.kernel_size), height(layer.stride), height(layer.padding),
                                 height(getattr(layer, "dilation", 1))))
        return _rf_along(settings)

    def wraps_settings_along(model):
        r, jump, pad = 1, 1, 0
        for _, k, s, p, d in _settings_along(model, 0):
            r, jump, pad = r + d * (k - 1) * jump, jump * s, pad + p * jump
        return r, jump, pad

    for fn in (wraps_rf_along, wraps_settings_along):
        result = check("ex-ch3-rf-function", fn)
        assert not result.passed and "recurrences yourself" in result.message, (fn.__name__, result.message)
    assert _rf_along([("conv", 3, 2, 1, 1)]) == (3, 2, 1)  # unpatched again
    assert check("ex-ch3-rf-function", rf_params).passed


def test_helpers_that_answer_an_exercise_are_private():
    for name in ("macs_at", "rf_along", "settings_along"):
        assert not hasattr(ch03, name) and hasattr(ch03, "_" + name), name
    for name in ("walk", "smallest_k", "stride1_rsp", "covering", "layer1_rsp", "layer1_grid", "inside"):
        assert not hasattr(ch03_fields, name) and hasattr(ch03_fields, "_" + name), name


def test_macs_hint_for_10_does_not_say_what_10_is():
    """10 is the side of the right output grid: a hint calling it an output size would confirm that grid."""
    message = check("ex-ch3-macs", 10).message
    for giveaway in ("output size", "output grid:", "side of your output grid"):
        assert giveaway not in message, message


def test_rf_function_messages_show_no_expected_value():
    for fn in (rf_off_by_one, rf_stride_off, rf_ignoring_dilation, rf_width):
        message = check("ex-ch3-rf-function", fn).message
        assert "expected" not in message, message


@pytest.mark.parametrize(("label", "answer", "giveaways"), [
    ("ex-ch3-macs", 10, ("twice", "larger", "smaller")),
    ("ex-ch3-macs", 19, ("larger", "smaller", "more than one input")),
    ("ex-ch3-macs", 22, ("larger", "smaller")),
    ("ex-ch3-macs", 23, ("larger", "smaller")),
    ("ex-ch3-macs", 24, ("larger", "smaller")),
    ("ex-ch3-first-kernel", 11, ("smaller", "3·k·k", "one channel")),
])
def test_hints_state_no_direction_or_factor(label, answer, giveaways):
    message = check(label, answer).message
    for giveaway in giveaways:
        assert giveaway not in message, (answer, giveaway, message)


# ---------------------------------------------------------------------------
# The receptive-field exercises answered by a function of the settings (course_lib/checks/ch03_fields.py).


def smallest_kernel(layers, target):
    r, jump = 1, 1
    for ks, stride in layers:
        r, jump = r + (ks - 1) * jump, jump * stride
    k = 1
    while r + (k - 1) * jump < target:
        k += 1
    return k


def covering_units(n_layers, size):
    r, jump, pad = 5, 2, 2
    for _ in range(n_layers):
        r, pad = r + 2 * jump, pad + jump
    n = (size - 1) // 2 + 1
    return sum(u * jump - pad <= 0 and u * jump - pad + r - 1 >= size - 1 for u in range(n))


def inside_list(first_ks, size, *, ks_used=None, pad_scale=2, jump1=2, top=True, bottom=True, no_pad=False):
    ks = first_ks if ks_used is None else ks_used
    r, jump, pad = ks + 2 * jump1, 4, 0 if no_pad else ks // 2 + pad_scale
    n = ((size - 1) // 2) // 2 + 1
    return [u for u in range(n) if (not top or u * jump - pad >= 0) and (not bottom or u * jump - pad + r <= size)]


def as_slice(units, stop_extra=1):
    return slice(units[0], units[-1] + stop_extra) if units else slice(0, 0)


def inside_units(first_ks, size):
    return as_slice(inside_list(first_ks, size))


def inside_units_negative(first_ks, size):  # the same units, counted from the end of the grid
    n = ((size - 1) // 2) // 2 + 1
    units = inside_list(first_ks, size)
    return slice(units[0] - n, units[-1] + 1 - n) if units and units[-1] + 1 < n else as_slice(units)


def smallest_kernel_no_strides(layers, target):
    return smallest_kernel([(k, 1) for k, _ in layers], target)


def smallest_kernel_late(layers, target):
    r, jump = 1, 1
    for ks, stride in layers:
        jump *= stride
        r += (ks - 1) * jump
    k = 1
    while r + (k - 1) * jump < target:
        k += 1
    return k


def smallest_kernel_zero(layers, target):
    r, jump = 1, 1
    for ks, stride in layers:
        r, jump = r + (ks - 1) * jump, jump * stride
    return 0 if r >= target else smallest_kernel(layers, target)


def smallest_kernel_strict(layers, target):
    return smallest_kernel(layers, target + 1)


def smallest_kernel_floor(layers, target):
    r, jump = 1, 1
    for ks, stride in layers:
        r, jump = r + (ks - 1) * jump, jump * stride
    return max(1, (target - r) // jump + 1)


def smallest_kernel_field(layers, target):  # the field size, not the kernel
    r, jump = 1, 1
    for ks, stride in layers:
        r, jump = r + (ks - 1) * jump, jump * stride
    return r + (smallest_kernel(layers, target) - 1) * jump


def covering_mistake(**kw):
    def fn(n_layers, size):
        r, jump, pad = 5, 2, 2
        step = kw.get("step", 2)
        for _ in range(n_layers):
            r, pad = r + 2 * step, pad + (step if kw.get("pad_grows", True) else 0)
        pad = kw.get("pad", pad)
        n = (size - 1) // 2 + 1
        if kw.get("all_units"):
            return n
        if kw.get("starts"):
            return max(0, r - size + 1)
        if kw.get("inside"):
            return sum(u * jump - pad >= 0 and u * jump - pad + r <= size for u in range(n))
        return sum(u * jump - pad <= 0 and u * jump - pad + r - 1 >= size - 1 for u in range(n))
    return fn


@pytest.mark.parametrize(("label", "answer"), [
    ("ex-ch3-two-stride2", smallest_kernel),
    ("ex-ch3-two-stride2", lambda layers, target: [smallest_kernel(layers, target), layers.clear()][0]),  # mutates
    ("ex-ch3-layers-needed", covering_units),
    ("ex-ch3-corner-region", inside_units),
    ("ex-ch3-corner-region", inside_units_negative),
    ("ex-ch3-corner-region", lambda first_ks, size: slice(*as_slice(inside_list(first_ks, size)).indices(99)[:2], 1)),
])
def test_right_functions_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


@pytest.mark.parametrize(("label", "answer", "hint"), [
    ("ex-ch3-two-stride2", smallest_kernel_no_strides, "you ignored the strides"),
    ("ex-ch3-two-stride2", smallest_kernel_late, "before using it"),
    ("ex-ch3-two-stride2", smallest_kernel_zero, "the smallest kernel size is 1"),
    ("ex-ch3-two-stride2", smallest_kernel_strict, "includes a field of exactly the target"),
    ("ex-ch3-two-stride2", smallest_kernel_floor, "round the count of taps up"),
    ("ex-ch3-two-stride2", smallest_kernel_field, "walk r and S through the layers"),
    ("ex-ch3-two-stride2", lambda layers, target: 7, "walk r and S through the layers"),  # the example's answer
    ("ex-ch3-two-stride2", lambda layers, target: float(smallest_kernel(layers, target)), "whole number"),
    ("ex-ch3-two-stride2", lambda layers, target: layers[0][0], "raised IndexError"),
    ("ex-ch3-two-stride2", 7, "Pass your function itself"),
    ("ex-ch3-layers-needed", covering_mistake(all_units=True), "not every unit"),
    ("ex-ch3-layers-needed", covering_mistake(starts=True), "counts input rows, not units"),
    ("ex-ch3-layers-needed", covering_mistake(pad=0), "as if P were 0"),
    ("ex-ch3-layers-needed", covering_mistake(pad_grows=False), "stopped growing after the first layer"),
    ("ex-ch3-layers-needed", covering_mistake(step=1), "taps were 1 input pixel apart"),
    ("ex-ch3-layers-needed", covering_mistake(inside=True), "fit inside the image"),
    ("ex-ch3-layers-needed", lambda n_layers, size: 5, "walk the recurrences"),  # the example's answer
    ("ex-ch3-layers-needed", lambda n_layers, size: [covering_units(n_layers, size)], "whole number"),
    ("ex-ch3-layers-needed", 5, "Pass your function itself"),
    ("ex-ch3-corner-region", lambda ks, size: as_slice(inside_list(ks, size, no_pad=True)), "effective padding P"),
    ("ex-ch3-corner-region", lambda ks, size: as_slice(inside_list(ks, size, pad_scale=1)),
     "p times their effective stride"),
    ("ex-ch3-corner-region", lambda ks, size: as_slice(inside_list(ks, size, jump1=1, pad_scale=1)),
     "1 input pixel apart"),
    ("ex-ch3-corner-region", lambda ks, size: as_slice(inside_list(ks, size, ks_used=5)), "must follow first_ks"),
    ("ex-ch3-corner-region", lambda ks, size: as_slice(inside_list(ks, size, top=False)), "check both ends"),
    ("ex-ch3-corner-region", lambda ks, size: as_slice(inside_list(ks, size, bottom=False)), "check both ends"),
    ("ex-ch3-corner-region", lambda ks, size: as_slice(inside_list(ks, size), 0), "stops one past the last"),
    ("ex-ch3-corner-region", lambda ks, size: slice(2, 6), "run the recurrences"),  # the example's answer
    ("ex-ch3-corner-region", lambda ks, size: tuple(inside_list(ks, size)), "return a Python slice"),
    ("ex-ch3-corner-region", lambda ks, size: range(99)[inside_units(ks, size)], "return a Python slice"),
    ("ex-ch3-corner-region", lambda ks, size: slice(2, 6, 2), "leave out the step"),
    ("ex-ch3-corner-region", lambda ks, size: slice(2.0, 6), "whole numbers"),
    ("ex-ch3-corner-region", slice(2, 6), "Pass your function itself"),
])
def test_wrong_functions_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed and hint in result.message, result.message
    assert "expected" not in result.message, result.message


def smallest_kernel_all_taps(layers, target):  # a k-tap kernel's field taken as r + k·S
    r, jump = 1, 1
    for ks, stride in layers:
        r, jump = r + (ks - 1) * jump, jump * stride
    k = 1
    while r + k * jump < target:
        k += 1
    return k


def covering_test(top_ok, bottom_ok):
    """covering_units with its two tests of a field's ends replaced: (first row, ...) -> bool."""
    def fn(n_layers, size):
        r, jump, pad = 5 + 4 * n_layers, 2, 2 + 2 * n_layers
        return sum(top_ok(u * jump - pad) and bottom_ok(u * jump - pad, r, size) for u in range((size - 1) // 2 + 1))
    return fn


def inside_test(top_ok, bottom_ok):
    """inside_units with its two tests of a field's ends replaced."""
    def fn(first_ks, size):
        r, jump, pad = first_ks + 4, 4, first_ks // 2 + 2
        units = [u for u in range(((size - 1) // 2) // 2 + 1)
                 if top_ok(u * jump - pad) and bottom_ok(u * jump - pad, r, size)]
        return as_slice(units)
    return fn


@pytest.mark.parametrize(("label", "answer", "hint"), [
    # off by one: each gets its own diagnosis, not that of another mistake that happens to agree on one case
    ("ex-ch3-two-stride2", smallest_kernel_all_taps, "one tap too many"),
    ("ex-ch3-layers-needed", covering_test(lambda top: top <= 0, lambda top, r, size: top + r - 1 >= size),
     "a field whose last row is exactly that one covers it"),
    ("ex-ch3-layers-needed", covering_test(lambda top: top <= 0, lambda top, r, size: top + r >= size - 1),
     "ends at row uS - P + r - 1"),
    ("ex-ch3-layers-needed", covering_test(lambda top: top < 0, lambda top, r, size: top + r - 1 >= size - 1),
     "starts exactly at row 0 covers"),
    ("ex-ch3-corner-region", inside_test(lambda top: top >= 0, lambda top, r, size: top + r < size),
     "still lies inside the image"),
    ("ex-ch3-corner-region", inside_test(lambda top: top >= 0, lambda top, r, size: top + r - 1 <= size),
     "ends at row uS - P + r - 1"),
    ("ex-ch3-corner-region", inside_test(lambda top: top > 0, lambda top, r, size: top + r <= size),
     "starts exactly at row 0 lies inside"),
    # no known mistake reproduces these: the default hint, not one that matches a single case by chance
    ("ex-ch3-two-stride2", lambda layers, target: 0, "walk r and S through the layers"),
    ("ex-ch3-two-stride2", lambda layers, target: smallest_kernel(layers, target) + (target % 3 == 0),
     "walk r and S through the layers"),
    ("ex-ch3-layers-needed", lambda n_layers, size: 0, "walk the recurrences"),
    ("ex-ch3-layers-needed", lambda n_layers, size: covering_units(n_layers, size) + (size % 2),
     "walk the recurrences"),
    ("ex-ch3-corner-region", lambda ks, size: slice(0, 0), "run the recurrences"),
    ("ex-ch3-corner-region", lambda ks, size: inside_units(ks, size) if size % 2 else slice(1, 3),
     "run the recurrences"),
])
def test_field_functions_get_the_right_diagnosis(label, answer, hint):
    result = check(label, answer)
    assert not result.passed and hint in result.message, result.message
    assert "expected" not in result.message, result.message


def test_a_function_wrong_beyond_the_example_is_judged_on_another_case():
    examples = {"ex-ch3-two-stride2": "For layers=[(3, 2), (2, 2)], target=29",
                "ex-ch3-layers-needed": "For n_layers=8, size=28", "ex-ch3-corner-region": "For first_ks=9, size=28"}
    for label, fn in [("ex-ch3-two-stride2", smallest_kernel_all_taps), ("ex-ch3-two-stride2", smallest_kernel_late),
                      ("ex-ch3-layers-needed", covering_mistake(pad=0)), ("ex-ch3-layers-needed", lambda n, s: 0),
                      ("ex-ch3-corner-region", lambda ks, size: slice(0, 0))]:
        message = check(label, fn).message
        assert not message.startswith(examples[label]), message


@pytest.mark.parametrize(("label", "right", "example_answer"), [
    ("ex-ch3-two-stride2", smallest_kernel, "7"),
    ("ex-ch3-layers-needed", covering_units, "5"),
    ("ex-ch3-corner-region", inside_units, "[2, 3, 4, 5]"),
])
def test_a_wrong_example_never_shows_its_answer(label, right, example_answer):
    """The example comes first; whatever a function gets wrong there, the message does not show the answer."""
    example = {"ex-ch3-two-stride2": ch03_fields.TWO_STRIDE2_EXAMPLE, "ex-ch3-layers-needed":
               ch03_fields.LAYERS_NEEDED_EXAMPLE, "ex-ch3-corner-region": ch03_fields.CORNER_EXAMPLE}[label]
    for wrong in ([0, 1, 2, 3, 4, 6, 8, 99] if label != "ex-ch3-corner-region"
                  else [slice(0, 0), slice(1, 6), slice(2, 5), slice(0, 7), slice(3, 6)]):
        def answer(*args, wrong=wrong):
            return wrong if list(args) == list(example) else right(*args)

        result = check(label, answer)
        message = result.message
        assert not result.passed and "expected" not in message, message
        hint = message.split(" you get ", 1)[1].split(": ", 1)[1]  # after the settings and the student's value
        assert example_answer not in hint, message
        assert any(default in hint for default in ("walk r and S", "walk the recurrences", "run the recurrences"))


def test_example_cases_come_first_with_the_chapter_settings():
    assert ch03_fields._two_stride2_cases()[0] == ([(3, 2), (2, 2)], 29)
    assert ch03_fields._layers_needed_cases()[0] == (8, 28)
    assert ch03_fields._corner_cases()[0] == (9, 28)
    assert ch03_fields._smallest_k([(3, 2), (2, 2)], 29) == 7
    assert ch03_fields._covering(8, 28) == 5
    assert ch03_fields._inside(9, 28) == (2, 3, 4, 5)


def _field_rows(model, size, unit_row, layer=-1):
    """The input rows one unit of a real model is connected to, by back-propagation."""
    return empirical_receptive_field(model, (1, size, size), layer=layer, unit=(unit_row, 0))[0]


def test_two_stride2_answers_by_back_propagation():
    """Grow the last kernel of a real network until a unit's gradient covers the target."""
    for layers, target in ch03_fields._two_stride2_cases():
        before = [nn.MaxPool2d(2, 2) if (layers, i) == ([(3, 2), (2, 2)], 1) else nn.Conv2d(1, 1, k, stride=s)
                  for i, (k, s) in enumerate(layers)]
        k = 1
        while True:
            model = nn.Sequential(*before, nn.Conv2d(1, 1, k))
            size = receptive_field(model)[-1].size  # no padding: an input this size has one whole unit
            rows = _field_rows(model, size, 0)
            if rows.stop - rows.start >= target:
                break
            k += 1
        assert ch03_fields._smallest_k(layers, target) == k, (layers, target)


def test_layers_needed_answers_by_back_propagation():
    for n_layers, size in ch03_fields._layers_needed_cases():
        model = nn.Sequential(nn.Conv2d(1, 1, 5, stride=2, padding=2),
                              *(nn.Conv2d(1, 1, 3, padding=1) for _ in range(n_layers)))
        out = (size - 1) // 2 + 1
        if size in (28, 27, 9):  # back-propagation on some sizes, the region formula on all
            found = sum(_field_rows(model, size, u) == slice(0, size) for u in range(out))
        else:
            found = sum(receptive_region(model, (1, size, size), unit=(u, 0))[0] == slice(0, size)
                        for u in range(out))
        assert ch03_fields._covering(n_layers, size) == found, (n_layers, size)


def test_corner_region_answers_by_back_propagation():
    for first_ks, size in ch03_fields._corner_cases():
        model = simple_cnn(first_ks=first_ks)
        row = receptive_field(model, (1, size, size))[2]
        assert row.name == "1.0"
        whole = tuple(u for u in range(row.output_size)
                      if (lambda rows: rows.stop - rows.start)(_field_rows(model, size, u, layer=2)) == row.size)
        assert ch03_fields._inside(first_ks, size) == whole, (first_ks, size)
    assert any(not ch03_fields._inside(ks, size) for ks, size in ch03_fields._corner_cases())  # empty answers too


def test_field_functions_cannot_wrap_the_library():
    import course_lib

    def kernel_by_library(layers, target):
        before = [nn.Conv2d(1, 1, k, stride=s) for k, s in layers]
        return next(k for k in range(1, 999)
                    if course_lib.receptive_field(nn.Sequential(*before, nn.Conv2d(1, 1, k)))[-1].size >= target)

    def covering_by_region(n_layers, size):
        model = nn.Sequential(nn.Conv2d(1, 1, 5, 2, 2), *(nn.Conv2d(1, 1, 3, padding=1) for _ in range(n_layers)))
        return sum(receptive_region(model, (1, size, size), unit=(u, 0))[0] == slice(0, size)
                   for u in range((size - 1) // 2 + 1))

    def inside_by_gradient(first_ks, size):
        model = simple_cnn(first_ks=first_ks)
        units = [u for u in range(7) if course_lib.empirical_receptive_field(model, (1, size, size), 2, (u, 0))]
        return as_slice(units)

    def inside_by_the_checks_helper(first_ks, size):
        return as_slice(list(ch03_fields._inside(first_ks, size)))

    for label, fn in [("ex-ch3-two-stride2", kernel_by_library), ("ex-ch3-layers-needed", covering_by_region),
                      ("ex-ch3-corner-region", inside_by_gradient),
                      ("ex-ch3-corner-region", inside_by_the_checks_helper)]:
        result = check(label, fn)
        assert not result.passed and "recurrences yourself" in result.message, (label, result.message)
    assert check("ex-ch3-corner-region", inside_units).passed  # unpatched again
    assert ch03_fields._inside(9, 28) == (2, 3, 4, 5)


def test_unanswered_field_functions_are_not_answered_yet():
    def stub(*args):
        raise NotImplementedError

    for label in ("ex-ch3-two-stride2", "ex-ch3-layers-needed", "ex-ch3-corner-region"):
        assert check(label, stub).status == "not answered yet"
        assert check(label, None).status == "not answered yet"
