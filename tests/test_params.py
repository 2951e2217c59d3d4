"""analysis.params: every notebook parameter checked (type, range, known names, periods in the data) with a
one-line message naming the parameter and the valid values; in IPython, a DataError shows as that line."""

from __future__ import annotations

import re

import pytest

from analysis import DataError, params
from analysis.data import load_published, load_series
from analysis.present.catalogue import LANGS

DEFAULTS_03 = {
    "data_path": "", "sheet": "", "lang": "en", "export_dir": "", "convention": "default", "baseline_start": 2010,
    "baseline_end": 2019, "target_periods": [2020, 2021], "models": ["linear", "ets"], "baseline_model": "auto",
    "compare_method": "rolling", "break_period": 0, "forecast_periods": 3, "forecast_model": "ets", "alpha": 0.05,
    "n_boot": 200, "seed": 2022, "months_per_year": 12, "month_tolerance": 0.1, "weekdays_per_year": 250,
    "days_per_year": 365, "weekend_share": [0.1, 0.3], "cw_second_month": "2012-11", "plateau_steps": [20, 50],
    "driver_sets": [["sysvak", "svarrapporter"], ["sysvak", "svarrapporter", "frikort"]],
}


def test_defaults_pass_and_unknown_names_are_ignored():
    params.check("03_trend_models", {**DEFAULTS_03, "pd": object(), "some_new_parameter": -1})
    params.check("02_growth_decomposition", {"start": 2020, "end": 2021, "exclude": [],
                                             "include_reverse_helseboka": False}, load_published())


BAD = [
    ("alpha", 2, r"parameter 'alpha': 2 is outside \(0, 1\); give e.g. 0.05"),
    ("alpha", 0, r"parameter 'alpha': 0 is outside \(0, 1\)"),
    ("alpha", 1.0, r"parameter 'alpha': 1.0 is outside \(0, 1\)"),
    ("alpha", "0.05", r"parameter 'alpha': '0.05' is not a number"),
    ("alpha", True, r"parameter 'alpha': True is not a number"),
    ("n_boot", 0, r"parameter 'n_boot': 0 is below 1; give a whole number of 1 or more"),
    ("n_boot", 2.5, r"parameter 'n_boot': 2.5 is not a whole number"),
    ("seed", -1, r"parameter 'seed': -1 is below 0"),
    ("forecast_periods", 0, r"parameter 'forecast_periods': 0 is below 1"),
    ("models", ["nosuch"], r"parameter 'models': \['nosuch'\] has unknown model name\(s\) \['nosuch'\]; the models "
                           r"are \['linear', 'loglinear', 'poisson', 'ets', 'segmented', 'logistic'\]"),
    ("models", [], r"parameter 'models': \[\] is empty; name at least one of"),
    ("models", ["ets", "ets"], r"names a model twice"),
    ("models", "ets", r"is not a list of model names"),
    ("baseline_model", "best", r"parameter 'baseline_model': 'best' is not known; use one of \['auto', 'linear'"),
    ("forecast_model", "auto", r"parameter 'forecast_model': 'auto' is not known; use one of \['linear'"),
    ("compare_method", "kfold", r"'kfold' is not known; use one of \['rolling', 'loo'\]"),
    ("lang", "de", r"parameter 'lang': 'de' is not a language of the notebooks; use one of \['nb', 'en'\]"),
    ("convention", "loose", r"parameter 'convention': convention 'loose' is not known"),
    ("data_path", 3, r"parameter 'data_path': 3 is not text"),
    ("break_period", "abc", r"parameter 'break_period': 'abc' is not a period"),
    ("target_periods", [], r"parameter 'target_periods': \[\] is not a non-empty list of periods"),
    ("weekend_share", [0.3, 0.1], r"parameter 'weekend_share': \[0.3, 0.1\] is not a range \[low, high\]"),
    ("cw_second_month", "2012-13", r"parameter 'cw_second_month': '2012-13' is not a month"),
    ("plateau_steps", [20, 0], r"parameter 'plateau_steps': \[20, 0\] is not a list of positive rounding steps"),
    ("driver_sets", [["sysvak", "nope"]], r"parameter 'driver_sets': \['sysvak', 'nope'\] has unknown driver"),
    ("month_tolerance", 1, r"parameter 'month_tolerance': 1 is outside \[0, 1\)"),
    ("days_per_year", 0, r"parameter 'days_per_year': 0 is outside \(0, 366\]"),
    ("start", "abc", r"parameter 'start': 'abc' is not a period; write a year such as 2020"),
    ("exclude", ["nope"], r"parameter 'exclude': \['nope'\] has unknown driver name\(s\) \['nope'\]; the drivers "
                          r"are \['sysvak', 'svarrapporter', 'frikort', 'helseboka'\]"),
    ("include_reverse_helseboka", "yes", r"'yes' is not True or False"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD])
def test_bad_value_names_the_parameter_and_the_valid_values(name, value, message):
    with pytest.raises(DataError, match=message) as info:
        params.check("03_trend_models", {**DEFAULTS_03, name: value})
    assert "\n" not in str(info.value)


def test_periods_are_checked_against_the_data():
    published = load_published()  # levels of 2020 and 2021
    for values, message in [
        ({"start": 2030, "end": 2021}, r"parameter 'start': 2030 is not a period in the data; the data have "
                                       r"\['2020', '2021'\]"),
        ({"start": 2021, "end": 2020}, r"parameters 'start' \(2021\) and 'end' \(2020\): start must come before end"),
        ({"start": 2020, "end": "2021-03"}, r"parameter 'end': '2021-03' is not a period of the data's kind"),
        ({"target_periods": [2020, 2022]}, r"parameter 'target_periods': .* names 2022, not a year of the data"),
    ]:
        with pytest.raises(DataError, match=message):
            params.check("02_growth_decomposition", values, published)


def test_baseline_years_are_checked_against_a_series(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("period,measure,sender,receiver,value\n" + "".join(f"{y},total,all,all,{y}\n" for y in
                                                                    range(2012, 2022)), encoding="utf-8")
    series = load_series(p)
    params.check("03_trend_models", {"baseline_start": 2012, "baseline_end": 2019, "target_periods": [2020]}, series)
    with pytest.raises(DataError, match=r"parameter 'baseline_start': 2010 is not a year of the data's total; the "
                                        r"data have \[2012, 2013"):
        params.check("03_trend_models", {"baseline_start": 2010, "baseline_end": 2019}, series)
    with pytest.raises(DataError, match=r"the baseline must start before it ends"):
        params.check("03_trend_models", {"baseline_start": 2019, "baseline_end": 2015}, series)


def test_languages_are_the_catalogues():
    assert tuple(params.LANGS) == tuple(LANGS)


def test_every_notebook_parameter_has_a_rule():
    """Each parameter the notebooks declare is checked (a new parameter needs its rule in analysis.params)."""
    from analysis.pipeline.reports import discover, notebook_parameters

    declared = {name for nb in discover() for name in notebook_parameters(nb)}
    assert declared - set(params.RULES) == set()


def test_in_ipython_a_data_error_is_one_line_and_the_cell_still_fails(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    result = shell.run_cell("from analysis import params\nparams.check('03_trend_models', {'alpha': 2})")
    assert isinstance(result.error_in_exec, DataError)  # papermill and the pipeline still see the failure
    shown = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert shown == ["DataError: parameter 'alpha': 2 is outside (0, 1); give e.g. 0.05 for 95 % intervals"]
    result = shell.run_cell("1 / 0")  # other errors keep their traceback
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    out = capsys.readouterr().out
    assert "ZeroDivisionError" in out and len(out.strip().splitlines()) > 1


def test_trend_periods_are_checked_against_the_series():
    """On a yearly series 2010-2021: the break must be a year after the first (2031, 2010 refused), the event
    periods after the baseline (2019 is inside a baseline ending 2019) and years, not months."""
    import pandas as pd

    years = list(range(2010, 2022))
    frame = pd.DataFrame({"period": pd.PeriodIndex([str(y) for y in years], freq="Y"), "measure": "total",
                          "sender": "all", "receiver": "all", "value": [1.0e8 + y for y in years]})
    frame["low"], frame["high"], frame["unit"], frame["source_id"] = frame["value"], frame["value"], "messages", "x"
    base = {"baseline_start": 2010, "baseline_end": 2019, "target_periods": [2020, 2021], "break_period": 0}
    params.check_periods("03_trend_models", base, frame)  # the defaults fit
    for change, words in (({"break_period": 2031}, "'break_period': 2031 is not a year of the data after its"),
                          ({"break_period": 2010}, "'break_period': 2010 is not a year of the data after its"),
                          ({"target_periods": [2019, 2020]}, "inside the baseline (which ends 2019)"),
                          ({"target_periods": ["2019-03"]}, "a month, but the data are yearly")):
        with pytest.raises(DataError, match=re.escape(words)):
            params.check_periods("03_trend_models", {**base, **change}, frame)
