"""Chapter 3's exercise checks: right answers pass, wrong ones get the specific hint."""

import pytest
from torch import nn

from course_lib import check, layer_summary, receptive_field, receptive_region, simple_cnn
from course_lib.checks import ch03


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
        ("ex-ch3-two-stride2", 7),
        ("ex-ch3-first-kernel", 7),
        ("ex-ch3-macs", 20),
        ("ex-ch3-rf-function", rf_params),
        ("ex-ch3-rf-function", lambda model: list(rf_params(model))),
        ("ex-ch3-layers-needed", 5),
        ("ex-ch3-corner-region", slice(2, 6)),
        ("ex-ch3-corner-region", slice(2, -1)),
        ("ex-ch3-corner-region", slice(-5, 6, 1)),
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


@pytest.mark.parametrize(
    ("label", "answer", "hint"),
    [
        ("ex-ch3-two-stride2", 29, "asks for the kernel size k"),
        ("ex-ch3-two-stride2", 14, "leaves out the pool"),
        ("ex-ch3-two-stride2", 8, "also adds (2-1)"),
        ("ex-ch3-two-stride2", 13, "but not multiply the effective stride"),
        ("ex-ch3-two-stride2", 26, "ignores the strides"),
        ("ex-ch3-two-stride2", 6, "Walk the recurrences"),  # one neighbour of 7 gets a diagnosis (8), not both
        ("ex-ch3-two-stride2", 9, "Walk the recurrences"),
        ("ex-ch3-two-stride2", 5, "Walk the recurrences"),
        ("ex-ch3-two-stride2", "7", "whole number"),
        ("ex-ch3-two-stride2", 7.0, "whole number"),
        ("ex-ch3-first-kernel", 3, "fewer than the 32"),
        ("ex-ch3-first-kernel", 4, "4 is even"),
        ("ex-ch3-first-kernel", 5, "the rule compares ratios"),
        ("ex-ch3-first-kernel", 11, "leaves the channels out"),
        ("ex-ch3-first-kernel", 9, "count what simple_cnn's first layer reads"),
        ("ex-ch3-first-kernel", 1, "count what simple_cnn's first layer reads"),
        ("ex-ch3-first-kernel", "7", "whole number"),
        ("ex-ch3-macs", 10, "side of your output grid"),
        ("ex-ch3-macs", 10, "once per output position"),
        ("ex-ch3-macs", 10, "that is an output size"),
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
        ("ex-ch3-rf-function", rf_off_by_one, "expected"),
        ("ex-ch3-rf-function", rf_size_only, "return the tuple (r, S, P)"),
        ("ex-ch3-rf-function", rf_pair, "tuple (r, S, P) of three ints"),
        ("ex-ch3-rf-function", rf_floats, "whole numbers"),
        ("ex-ch3-rf-function", 7, "Pass your function itself"),
        ("ex-ch3-layers-needed", 14, "Not every row"),
        ("ex-ch3-layers-needed", 10, "counts input rows, not units"),
        ("ex-ch3-layers-needed", 1, "as if P were 0"),
        ("ex-ch3-layers-needed", 2, "stopped growing after the first layer"),
        ("ex-ch3-layers-needed", 0, "No row at all"),
        ("ex-ch3-layers-needed", 4, "Walk the recurrences"),
        ("ex-ch3-layers-needed", 6, "Walk the recurrences"),
        ("ex-ch3-layers-needed", 25, "Walk the recurrences"),
        ("ex-ch3-layers-needed", [5], "whole number"),
        ("ex-ch3-layers-needed", "5", "whole number"),
        ("ex-ch3-corner-region", slice(0, 4), "effective padding P"),
        ("ex-ch3-corner-region", slice(2, 7), "Check both ends"),
        ("ex-ch3-corner-region", slice(2, None), "Check both ends"),
        ("ex-ch3-corner-region", slice(0, 6), "Check both ends"),
        ("ex-ch3-corner-region", slice(None), "Not every unit"),
        ("ex-ch3-corner-region", slice(2, 5), "Check both ends"),
        ("ex-ch3-corner-region", slice(1, 6), "Check both ends"),
        ("ex-ch3-corner-region", slice(1, 6), "5×5 first layer"),  # the answer with simple_cnn's r, S, P
        ("ex-ch3-corner-region", slice(0, 0), "An empty slice"),
        ("ex-ch3-corner-region", slice(1, 8), "only 7 rows of units"),
        ("ex-ch3-corner-region", slice(1, 3), "Run the recurrences"),
        ("ex-ch3-corner-region", slice(2, 6, 2), "leave out the step"),
        ("ex-ch3-corner-region", slice(2, 6, 0), "leave out the step"),
        ("ex-ch3-corner-region", slice(2.0, 6), "whole numbers"),
        ("ex-ch3-corner-region", (2, 6), "Python slice"),
        ("ex-ch3-corner-region", range(2, 6), "Python slice"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed and hint in result.message, result.message


def test_generic_hints_do_not_hand_over_the_computation():
    for label, answer in [("ex-ch3-two-stride2", 5), ("ex-ch3-first-kernel", 1), ("ex-ch3-macs", 18),
                          ("ex-ch3-layers-needed", 4)]:
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


def test_two_stride2_answer_is_the_smallest_kernel_by_brute_force():
    sizes = {k: receptive_field(ch03._two_stride2_model(k))[-1].size for k in range(1, 12)}
    assert sizes[7] == 29 and sizes[6] < 29 and sizes[3] == 13  # 13: the field of a 3×3 last layer
    assert min(k for k, r in sizes.items() if r >= 29) == 7


def test_every_hinted_two_stride2_mistake_is_a_distinct_wrong_answer():
    def smallest_k(r, jump):  # the smallest k with r + (k - 1)·jump at least 29
        return next(k for k in range(1, 100) if r + (k - 1) * jump >= 29)

    mistakes = {
        "no pool": smallest_k(3, 2),
        "pool only multiplies S": smallest_k(3, 4),
        "pool only widens r": smallest_k(5, 2),
        "no strides": smallest_k(4, 1),
    }
    assert mistakes == {"no pool": 14, "pool only multiplies S": 8, "pool only widens r": 13, "no strides": 26}
    assert 7 not in mistakes.values() and 29 not in mistakes.values()


def test_corner_region_answer_matches_receptive_region_on_every_unit():
    model = simple_cnn(first_ks=9)
    row = receptive_field(model, (1, 28, 28))[2]
    assert (row.name, row.size, row.stride, row.padding, row.output_size) == ("1.0", 13, 4, 6, 7)
    regions = [receptive_region(model, (1, 28, 28), layer=2, unit=(u, u))[0] for u in range(row.output_size)]
    whole = [u for u, rows in enumerate(regions) if rows.stop - rows.start == row.size]
    assert whole == [2, 3, 4, 5]
    # unlike simple_cnn's own layer 1.0, whose units 1 to 5 see their whole field: no answer by analogy
    plain = receptive_field(simple_cnn(), (1, 28, 28))[2]
    assert [u for u in range(7) if 0 <= u * plain.stride - plain.padding <= 28 - plain.size] == [1, 2, 3, 4, 5]
    assert check("ex-ch3-corner-region", slice(whole[0], whole[-1] + 1)).passed


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


def test_layers_needed_answer_counts_the_covering_rows_by_receptive_region():
    model = ch03._stride1_model()
    assert len(model) == 1 + ch03.STRIDE1_LAYERS == 9
    row = receptive_field(model, (1, 28, 28))[-1]
    assert (row.size, row.stride, row.padding, row.output_size) == (37, 2, 18, 14)
    regions = {u: receptive_region(model, (1, 28, 28), layer=-1, unit=(u, u))[0] for u in range(14)}
    covering = [u for u, rows in regions.items() if rows == slice(0, 28)]
    by_formula = [u for u in range(14) if 2 * u - 18 <= 0 and 2 * u - 18 + 37 - 1 >= 27]
    assert covering == by_formula == ch03._covering_rows() == [5, 6, 7, 8, 9]
    assert check("ex-ch3-layers-needed", len(covering)).passed


def test_every_hinted_layers_needed_mistake_is_a_distinct_wrong_answer():
    def count(r, jump, pad, first=lambda u, jump, pad: u * jump - pad):
        return sum(first(u, jump, pad) <= 0 and first(u, jump, pad) + r - 1 >= 27 for u in range(14))

    mistakes = {
        "every row, since r > 28": 14,
        "pixel positions, not units": 37 - 28 + 1,
        "P left out": count(37, 2, 0),
        "P stops after the first layer": count(37, 2, 2),
        "S = 1 in r": count(5 + 2 * 8, 2, 18),
        "fields inside the image": sum(2 * u - 18 >= 0 and 2 * u - 18 + 36 <= 27 for u in range(14)),
    }
    assert mistakes == {"every row, since r > 28": 14, "pixel positions, not units": 10, "P left out": 1,
                        "P stops after the first layer": 2, "S = 1 in r": 0, "fields inside the image": 0}
    assert count(37, 2, 18) == 5 and 5 not in mistakes.values()


@pytest.mark.parametrize(("label", "answer", "step"), [
    ("ex-ch3-two-stride2", 7, 1), ("ex-ch3-first-kernel", 7, 2), ("ex-ch3-macs", 20, 1),
    ("ex-ch3-layers-needed", 5, 1),
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
    for name in ("covering_rows", "macs_at", "two_stride2_model", "stride1_model", "rf_along", "settings_along"):
        assert not hasattr(ch03, name) and hasattr(ch03, "_" + name), name


@pytest.mark.parametrize("answer", [slice(0, 6), slice(1, 6), slice(2, 7), slice(2, None), slice(2, 5)])
def test_corner_region_hints_name_no_end(answer):
    """A wrong slice that is right at one end gets the same advice as one right at the other."""
    message = check("ex-ch3-corner-region", answer).message
    assert "first row" in message and "last row" in message and "stops one past the last" in message, message
    for giveaway in ("above the image", "past the bottom", "Almost", "as well as"):
        assert giveaway not in message, (answer, message)


@pytest.mark.parametrize(("label", "answer", "giveaways"), [
    ("ex-ch3-macs", 10, ("twice", "larger", "smaller")),
    ("ex-ch3-macs", 19, ("larger", "smaller", "more than one input")),
    ("ex-ch3-macs", 22, ("larger", "smaller")),
    ("ex-ch3-macs", 23, ("larger", "smaller")),
    ("ex-ch3-macs", 24, ("larger", "smaller")),
    ("ex-ch3-first-kernel", 11, ("smaller", "3·k·k", "one channel")),
    ("ex-ch3-layers-needed", 10, ("apart", "not 1", "half", "/")),
])
def test_hints_state_no_direction_or_factor(label, answer, giveaways):
    message = check(label, answer).message
    for giveaway in giveaways:
        assert giveaway not in message, (answer, giveaway, message)
