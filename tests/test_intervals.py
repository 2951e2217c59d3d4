"""The interval convention, worked by hand for each qualifier."""

import pytest

from analysis import DataError
from analysis.intervals import DEFAULT, get_convention


@pytest.mark.parametrize(
    ("value", "step", "qualifier", "expected"),
    [
        # "over 63 millioner": (63, 63 + 1)
        (63, 1, "over", (63, 64, False, False)),
        # "nesten 3,4 millioner": [3.4 - 0.1/2, 3.4) = [3.35, 3.4)
        (3.4, 0.1, "almost", (3.35, 3.4, True, False)),
        # "23,5 millioner": [23.5 - 0.05, 23.5 + 0.05) = [23.45, 23.55)
        (23.5, 0.1, "exact", (23.45, 23.55, True, False)),
        # "over 82 prosent": (82, 83)
        (82, 1, "over", (82, 83, False, False)),
        # "rundt 5 millioner": [5 - 0.5, 5 + 0.5] = [4.5, 5.5]
        (5, 1, "about", (4.5, 5.5, True, True)),
        # "rundt 0,71 millioner": [0.71 - 0.005, 0.71 + 0.005] = [0.705, 0.715]
        (0.71, 0.01, "about", (0.705, 0.715, True, True)),
        # "drøyt 40 000" with step 10 000: (40 000, 40 000 + 5 000]
        (40000, 10000, "just_over", (40000, 45000, False, True)),
    ],
)
def test_default_convention_by_hand(value, step, qualifier, expected):
    low, high, low_closed, high_closed = DEFAULT.bounds(value, step, qualifier)
    assert low == pytest.approx(expected[0])
    assert high == pytest.approx(expected[1])
    assert (low_closed, high_closed) == expected[2:]


def test_about_1step_widens_only_about():
    conv = get_convention("about_1step")
    # "rundt 5" read as ±1 step: [5 - 1, 5 + 1]
    assert conv.bounds(5, 1, "about")[:2] == pytest.approx((4, 6))
    assert conv.bounds(63, 1, "over")[:2] == pytest.approx((63, 64))


def test_wide_doubles_every_width():
    conv = get_convention("wide")
    for q in ("exact", "about", "over", "almost"):
        lo, hi, *_ = DEFAULT.bounds(10, 1, q)
        wlo, whi, *_ = conv.bounds(10, 1, q)
        assert whi - wlo == pytest.approx(2 * (hi - lo))
        assert wlo <= lo and whi >= hi


def test_relative_tolerance_adds_to_both_ends():
    conv = get_convention("rel:0.01")
    # "284 millioner" with 1 % slack: [283.5 - 2.84, 284.5 + 2.84]
    low, high, *_ = conv.bounds(284, 1, "exact")
    assert low == pytest.approx(283.5 - 2.84)
    assert high == pytest.approx(284.5 + 2.84)


@pytest.mark.parametrize(
    ("spec", "message"),
    [("tight", "not known"), ("rel:abc", "fraction"), ("rel:1.5", "fraction"), (3, "name or a Convention")],
)
def test_bad_convention_is_explained(spec, message):
    with pytest.raises(DataError, match=message):
        get_convention(spec)


def test_unknown_qualifier_and_bad_step():
    with pytest.raises(DataError, match="qualifier 'roughly'"):
        DEFAULT.bounds(1, 1, "roughly")
    with pytest.raises(DataError, match="step must be a positive"):
        DEFAULT.bounds(1, 0, "exact")


def test_describe_lists_every_qualifier():
    table = DEFAULT.describe()
    assert list(table["qualifier"]) == ["exact", "about", "over", "almost", "just_over"]
    assert table.set_index("qualifier").loc["over", "interval"] == "(x, x+1·u)"
