"""Numbers and intervals for readers: decimal marks by language, points to the nearest, bounds outwards."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.present.formatting import (
    MISSING,
    bracketed,
    interval,
    number,
    round_to,
    significant,
    with_bounds,
)


def test_round_to_nearest_down_and_up():
    assert round_to(82.5, 0, "down") == 82 and round_to(108.8, 0, "up") == 109
    assert round_to(48.06, 1, "down") == pytest.approx(48.0) and round_to(48.06, 1, "up") == pytest.approx(48.1)
    assert round_to(48.06, 1) == pytest.approx(48.1)  # a point: to the nearest
    # towards -inf / +inf, also below zero: -0.15217 at 4 decimals is -0.1522 down and -0.1521 up
    assert round_to(-0.15217, 4, "down") == pytest.approx(-0.1522)
    assert round_to(-0.15217, 4, "up") == pytest.approx(-0.1521)
    # negative digits round to tens: 123 456 down to tens is 123 450, up 123 460
    assert round_to(123456, -1, "down") == 123450 and round_to(123456, -1, "up") == 123460
    # float noise does not move a bound by a whole digit: 1.83 * 1.85 = 3.3855 (3.3855000000000004 in floats)
    assert round_to(1.83 * 1.85, 4, "up") == pytest.approx(3.3855)
    assert round_to(0.71 - 0.005, 3, "down") == pytest.approx(0.705)  # 0.7049999999999999 in floats
    assert math.isnan(round_to(float("nan"), 2, "up")) and round_to(np.inf, 2, "down") == np.inf
    with pytest.raises(ValueError, match="rounding"):
        round_to(1.0, 1, "outward")


def test_interval_rounds_its_ends_outwards():
    # the reviewer's case: 82.5-108.8 % at no decimals reads 82-109, not 83-109
    assert interval(82.5, 108.8, "nb", 0) == "82–109"
    assert interval(48.06, 48.14, "en", 1) == "48.0–48.2"
    assert interval(195.95, 196.04, "en", 1) == "195.9–196.1"
    assert interval(82.5, 108.8, "nb", 0, outward=False) == "82–109"  # 82.5 to even: 82 (Python's rule)
    assert interval(82.6, 108.8, "nb", 0, outward=False) == "83–109"
    assert interval(-0.15217, 6.1132, "nb", 2) == "\u22120,16 til 6,12"  # nb writes the minus sign U+2212
    assert interval(np.nan, 3.0, "en") == MISSING


def test_with_bounds_point_to_nearest_bounds_outwards_and_brackets():
    # point 2.98 stays 2.98 at two decimals; bounds 1.4145 and 4.5407 widen to 1.41 and 4.55
    assert with_bounds(2.98, 1.4145, 4.5407, "nb", 2) == "2,98 [1,41–4,55]"
    assert with_bounds(63.0, 63.0, 64.0, "en", 1, low_closed=False, high_closed=False) == "63.0 (63.0–64.0)"
    assert with_bounds(1234.5, 1200.04, 1300.06, "en", 1) == "1,234.5 [1,200.0–1,300.1]"
    assert with_bounds(1234.5, 1200.04, 1300.06, "nb", 1) == "1\u00a0234,5 [1\u00a0200,0–1\u00a0300,1]"
    assert with_bounds(np.nan, 1.0, 2.0, "en") == MISSING


def test_significant_and_bracketed_round_bounds_outwards():
    assert significant(23.45, "nb") == "23,45" and significant(23.45, "en") == "23.45"
    # 3.35 / 1.83 = 1.830601..., five significant digits: down 1.8306, up 1.8307
    assert significant(3.35 / 1.83, "en", rounding="down") == "1.8306"
    assert significant(3.35 / 1.83, "en", rounding="up") == "1.8307"
    assert significant(3.35 / 1.83, "en") == "1.8306"  # a point: to the nearest
    # growth 90.5 / 193.5 = 46.770 %, 91.5 / 192.5 = 47.532 % (47.5324... rounds up to 47.533)
    assert bracketed(100 * 90.5 / 193.5, 100 * 91.5 / 192.5, "nb", False, False) == "(46,77; 47,533)"
    assert bracketed(63, 64, "en", False, False) == "(63, 64)"
    assert bracketed(3.35, 3.4, "nb", True, False) == "[3,35; 3,4)"
    assert bracketed(0, np.inf, "en") == "[0, ∞)"
    assert bracketed(-np.inf, np.inf, "en") == "(−∞, ∞)"
    assert bracketed(np.nan, 1, "en") == MISSING
    assert bracketed(100 * 90.5 / 193.5, 100 * 91.5 / 192.5, "en", outward=False) == "[46.77, 47.532]"


def test_number_by_language_and_rounding():
    assert number(1234.5, "nb", 1) == "1\u00a0234,5" and number(1234.5, "en", 1) == "1,234.5"
    assert number(0.714, "en", 2, rounding="up") == "0.72" and number(0.714, "en", 2) == "0.71"
    assert number(None, "en") == MISSING


def test_decimal_marks_in_relations():
    from analysis.present.formatting import decimal_marks

    rel = "57.5 ≤ sysvak[all->all]@2021 − 1.82·plo@2020 < 58.5"
    assert decimal_marks(rel, "nb") == "57,5 ≤ sysvak[all->all]@2021 − 1,82·plo@2020 < 58,5"
    assert decimal_marks(rel, "en") == rel
    assert decimal_marks("x@2020-2021. Next", "nb") == "x@2020-2021. Next"  # a full stop is not a decimal mark


def test_lists_sentence_starts_and_no_negative_zero():
    from analysis.present.formatting import join_words, sentence_case

    assert join_words([2020, 2021], "nb") == "2020 og 2021"
    assert join_words(["a", "b", "c"], "en") == "a, b and c"
    assert join_words([2021], "en") == "2021" and join_words([], "nb") == ""
    assert sentence_case("damped-trend ETS") == "Damped-trend ETS" and sentence_case("") == ""
    # -0.04 at one decimal rounds to 0.0: shown without a sign; -0.06 rounds to -0.1 and keeps it
    assert number(-0.04, "nb", 1) == "0,0" and number(-0.06, "nb", 1) == "\u22120,1"
