"""Tables, sentences and figures for readers of the growth decomposition (notebook 02), in nb or en.

The numbers come from :func:`analysis.decompose.contributions_result`, :func:`analysis.decompose.counterfactual_result`
and :func:`analysis.decompose.compare_helseboka_result`; this module gives them words from the message catalogue
(:mod:`analysis.present.catalogue`, ``messages/<lang>/decompose.toml``), formats them
(:mod:`analysis.present.formatting`) and draws them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from analysis.decompose import Contributions, Counterfactual, HelsebokaComparison, Key
from analysis.present import catalogue, findings
from analysis.present.findings import KeyFindings
from analysis.present.formatting import (
    decimals_for,
    decimals_with_bounds,
    interval,
    join_words,
    number,
    sentence_case,
    significant,
    with_bounds,
)
from analysis.present.plotting import HATCHES, colors, wrap
from analysis.results import Note

# Label codes whose words are a measure's label (labels.measure.*).
_MEASURE_OF = {"sysvak": "sysvak", "svarrapporter": "svarrapporter", "frikort": "frikort_egenandel",
               "other_measures": "other"}


def _t(lang: str, key: str, /, **values: object) -> str:
    """Message `decompose.<key>` in `lang`."""
    return catalogue.text(lang, f"decompose.{key}", **values)


# ---------------------------------------------------------------- labels and names

def row_label(code: str, lang: str) -> str:
    """The words for a row's label code (the `label` column of a contributions table) in `lang`."""
    if catalogue.has(lang, f"decompose.driver.{code}"):
        return _t(lang, f"driver.{code}")
    return catalogue.label(lang, "measure", _MEASURE_OF.get(code, code))


def labels(result: Contributions, lang: str) -> list[str]:
    """Row labels of a contributions result in `lang`."""
    return [row_label(code, lang) for code in result.table["label"]]


def _mid_sentence(label: str) -> str:
    """A label as it reads inside a sentence: 'Svarrapporter' -> 'svarrapporter', 'SYSVAK' unchanged."""
    first = label.split(" ")[0]
    return label if len(first) > 1 and first.isupper() else label[:1].lower() + label[1:]


def _sentence_name(label: str) -> str:
    """A row label as the subject of a sentence, without the parenthetical: 'PLO fastlege → kommune'."""
    return label.split(" (")[0]


def driver_name(driver: str, lang: str = "nb") -> str:
    """A driver's short name as it reads inside a sentence: 'SYSVAK', 'svarrapporter', 'exemption card/...'."""
    code = "plo_flow" if driver == "helseboka" else ("plo_flow_both" if driver == "helseboka_both" else driver)
    return _mid_sentence(_sentence_name(row_label(code, lang)))


def driver_names(drivers: Sequence[str], lang: str = "nb") -> str:
    """Drivers' short names joined for a sentence: 'SYSVAK, svarrapporter og frikort/egenandel'."""
    catalogue.check_lang(lang)
    names = [driver_name(d, lang) for d in drivers]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + _t(lang, "names.and") + names[-1]


def variant_title(cf: Counterfactual, lang: str) -> str:
    """A counterfactual variant's name: 'uten SYSVAK og svarrapporter'."""
    return _t(lang, "names.variant", names=driver_names(cf.exclude, lang))


def variant_heading(cf: Counterfactual, lang: str) -> str:
    """A counterfactual variant's name as a bold Markdown heading line: '**uten SYSVAK og svarrapporter**'."""
    return _t(lang, "counterfactual.title", name=variant_title(cf, lang))


def no_counterfactual(lang: str) -> str:
    """What to say when the data have none of the drivers the counterfactual leaves out by default."""
    return _t(lang, "counterfactual.none")


def _unit(lang: str, unit: str) -> str:
    return catalogue.label(lang, "unit", unit)


# ---------------------------------------------------------------- notes

_fmt = {"digits": 4, "typographic": False}  # numbers inside the notes: 4 significant digits, general format


def note_text(n: Note, lang: str, unit: str | None = None) -> str:
    """One note of a contributions row in words."""
    v = dict(n.values)
    if n.code == "not_fit":
        d = decimals_with_bounds(v["mid"], v["low"], v["high"], unit)
        return _t(lang, "note.not_fit", value=significant(v["value"], lang, **_fmt), period=v["period"],
                  range=interval(v["low"], v["high"], lang, d), mid=number(v["mid"], lang, d))
    if n.code == "open_end":
        return _t(lang, "note.open_end", wording=v["wording"], value=significant(v["value"], lang, **_fmt))
    if n.code == "skipped":
        return _t(lang, "note.skipped", names=driver_names(v["names"], lang))
    if n.code == "undefined":
        return _t(lang, "note.undefined", what=_t(lang, f"ratio.{v['what']}"),
                  base=_t(lang, f"base.{v['base']}", period=v["period"]))
    if n.code == "outside":
        d = decimals_with_bounds(v["value"], v["low"], v["high"], unit)
        return _t(lang, "note.outside", what=_t(lang, f"point.{v['what']}"), value=number(v["value"], lang, d),
                  range=f"[{interval(v['low'], v['high'], lang, d)}]")
    return _t(lang, f"note.{n.code}", **v)


def notes_text(notes: Sequence[Note], lang: str, unit: str | None = None) -> str:
    """A row's notes in words, joined by '; '."""
    return "; ".join(dict.fromkeys(note_text(n, lang, unit) for n in notes))


def cf_note_text(n: Note, lang: str) -> str:
    """The note of one counterfactual quantity in words."""
    v = dict(n.values)
    if n.code == "excluded_change":
        return _t(lang, "cf_note.excluded_change", names=driver_names(v["names"], lang))
    if n.code == "plateau":
        return _t(lang, "cf_note.plateau", wording=v["wording"], step=significant(v["step"], lang, **_fmt))
    return _t(lang, f"cf_note.{n.code}")


# ---------------------------------------------------------------- tables

def _closed(row: Mapping, col: str, end: str) -> bool:
    """Whether the `end` ("low" or "high") of a bound is attained; closed when the table does not say."""
    value = row.get(f"{col}_{end}_closed", True) if hasattr(row, "get") else True
    return True if value is None or (isinstance(value, float) and math.isnan(value)) else bool(value)


def ends(low: float, high: float, lang: str, digits: int, low_closed: bool = True,
         high_closed: bool = True) -> str:
    """Bounds as "[57,5–58,5)": :func:`analysis.present.formatting.interval` (low end rounded down, high end up) in a
    square bracket where the end is attained and a round one where it is not."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"{'[' if low_closed else '('}{interval(low, high, lang, digits)}{']' if high_closed else ')'}"


def ends_of(row: Mapping, col: str, lang: str, unit: str | None = None) -> str:
    """The bounds of one quantity of a row in bracket notation, decimals from its point value."""
    return ends(row[f"{col}_low"], row[f"{col}_high"], lang, decimals_with_bounds(
        row[col], row[f"{col}_low"], row[f"{col}_high"], unit), _closed(row, col, "low"), _closed(row, col, "high"))


def cell(row: Mapping, col: str, lang: str, unit: str | None = None, digits: int | None = None) -> str:
    """One quantity of a row as "point [low–high]" (:func:`analysis.present.formatting.with_bounds`) with round
    brackets at the ends that are not attained; "–" when the point is missing."""
    v, lo, hi = row[col], row[f"{col}_low"], row[f"{col}_high"]
    if v is None or not math.isfinite(v):
        return "–"
    return with_bounds(v, lo, hi, lang, digits, unit=unit, low_closed=_closed(row, col, "low"),
                       high_closed=_closed(row, col, "high"))


def display_table(result: Contributions, lang: str = "nb") -> pd.DataFrame:
    """Return the contributions table as text, "point [low–high]", with headers in `lang`."""
    catalogue.check_lang(lang)
    table = result.table
    heads = {"start": _t(lang, "table.start", period=result.start), "end": _t(lang, "table.end", period=result.end),
             **{c: _t(lang, f"table.{c}") for c in ("change", "pp", "share_pct", "growth_pct")}}
    out = pd.DataFrame({_t(lang, "table.driver"): labels(result, lang)})
    out[_t(lang, "table.point_basis")] = [_t(lang, f"point_basis.{b}") for b in table["point_basis"]]
    rows = table.to_dict("records")
    for col, head in heads.items():
        u = result.unit if col in ("start", "end", "change") else "percent"
        out[head] = [cell(r, col, lang, u) for r in rows]
    out[_t(lang, "table.note")] = [notes_text(result.notes[d], lang, result.unit) for d in table["driver"]]
    return out.set_index(out.columns[0])


def display_counterfactual(cf: Counterfactual, lang: str = "nb") -> pd.DataFrame:
    """Return the counterfactual table as text, "point [low–high]", with names and headers in `lang`."""
    catalogue.check_lang(lang)
    period = {"start_total": cf.start, "end_total": cf.end}
    rows = [{"value": r["value"], "value_low": r["low"], "value_high": r["high"],
             "value_low_closed": r.get("low_closed", True), "value_high_closed": r.get("high_closed", True),
             "unit": r["unit"]} for r in cf.table.to_dict("records")]
    quantity = _t(lang, "table.quantity")
    return pd.DataFrame({
        quantity: [_t(lang, f"cf_row.{q}", period=period.get(q, "")) for q in cf.table["quantity"]],
        _t(lang, "table.value"): [cell(r, "value", lang, r["unit"]) for r in rows],
        _t(lang, "table.note"): [cf_note_text(cf.notes[q], lang) for q in cf.table["quantity"]],
    }).set_index(quantity)


# ---------------------------------------------------------------- sentences

def summary_text(result: Contributions, cf: Counterfactual | None = None, lang: str = "nb") -> str:
    """Return plain-language sentences a briefing can quote, every number taken from the results."""
    catalogue.check_lang(lang)
    rows = result.table.assign(label=labels(result, lang)).set_index("driver")
    total, other = rows.loc["total"], rows.loc["other"]
    unit_key = result.unit
    unit = _unit(lang, unit_key)

    def n(x: float, u: str | None = None) -> str:
        return number(x, lang, unit=u)

    def iv(r: pd.Series, col: str, u: str | None = None, digits: int | None = None) -> str:
        d = decimals_for(r[col], u) if digits is None else digits
        return ends(r[f"{col}_low"], r[f"{col}_high"], lang, d, _closed(r, col, "low"), _closed(r, col, "high"))

    def share(x: float) -> int:
        return 0 if math.isfinite(x) and abs(x) >= 10 else 1

    def model(r: pd.Series) -> str:
        return _t(lang, "summary.model") if r.get("point_basis") == "model" else ""

    what = _t(lang, "summary.what_published" if result.published else "summary.what_data")
    lines = [_t(lang, "summary.read" if result.published else "summary.read_data", what=what)]
    tpp = n(total["pp"])
    up = total["change"] >= 0
    if up:
        ci = iv(total, "change", unit_key)
    else:  # the size of a fall: the bounds of minus the change
        d = decimals_for(total["change"], unit_key)
        ci = ends(-total["change_high"], -total["change_low"], lang, d, _closed(total, "change", "high"),
                  _closed(total, "change", "low"))
    lines.append(_t(lang, "summary.total", s=result.start, e=result.end, c=n(abs(total["change"]), unit_key),
                    verb=_t(lang, "summary.up" if up else "summary.down"), ci=ci, unit=unit, pp=tpp,
                    ppi=iv(total, "pp")))
    drivers = [d for d in rows.index if d not in ("other", "total")]
    for i, d in enumerate(sorted(drivers, key=lambda d: -abs(np.nan_to_num(rows.loc[d, "pp"])))):
        r = rows.loc[d]
        text = _t(lang, "summary.driver",
                  name=_sentence_name(r["label"]) if d == "helseboka" else r["label"],
                  alone=_t(lang, "summary.alone") if i == 0 else "", pp=n(r["pp"]), model=model(r),
                  tpp=tpp, ppi=iv(r, "pp"), sh=number(r["share_pct"], lang, share(r["share_pct"])),
                  shi=iv(r, "share_pct", "percent", share(r["share_pct"])))
        if d == "helseboka" and result.published:
            text += _t(lang, "summary.helseboka")
        lines.append(text)
    basis = ""
    if other.get("point_basis") == "model":
        basis = _t(lang, "summary.other_model", p=significant(other["change_printed"], lang, 4))
    lines.append(_t(lang, "summary.other", name=other["label"], c=n(other["change"], unit_key), unit=unit,
                    basis=basis, ci=iv(other, "change", unit_key), pp=n(other["pp"]), ppi=iv(other, "pp"),
                    g=n(other["growth_pct"]), gi=iv(other, "growth_pct", "percent")))
    if cf is not None:
        c = cf.table.set_index("quantity")
        ct = c.loc["counterfactual_total"]
        ct = pd.Series({"value": ct["value"], "value_low": ct["low"], "value_high": ct["high"],
                        "value_low_closed": ct.get("low_closed", True),
                        "value_high_closed": ct.get("high_closed", True)})
        text = _t(lang, "summary.cf", names=driver_names(cf.exclude, lang), e=cf.end, v=n(ct["value"], unit_key),
                  unit=unit, vi=iv(ct, "value", unit_key), assume=_t(lang, "summary.no_substitution"))
        if "plateau" in c.index:
            pl = c.loc["plateau"]
            overlap = ct["value_low"] <= pl["high"] and ct["value_high"] >= pl["low"]
            text += _t(lang, "summary.plateau", where=_t(lang, "summary.within" if overlap else "summary.outside"),
                       pi=ends(pl["low"], pl["high"], lang, 0, bool(pl.get("low_closed", True)),
                               bool(pl.get("high_closed", True))))
        lines.append(text + ".")
    return "\n\n".join(lines)


def pp_example(result: Contributions, lang: str = "nb") -> str:
    """The worked example for the largest driver: its change over the start total × 100 = its percentage points."""
    rows = result.table.set_index("driver")
    drivers = rows.drop(index=["other", "total"])
    top = drivers["pp"].abs().idxmax()
    r, t, u = rows.loc[top], rows.loc["total"], result.unit
    return _t(lang, "example.pp", name=driver_name(top, lang), change=number(r["change"], lang, unit=u),
              unit=_unit(lang, u), start=number(t["start"], lang, unit=u), period=result.start,
              pp=number(r["pp"], lang), tpp=number(t["pp"], lang))


def point_values_text(result: Contributions, lang: str = "nb") -> str:
    """How the point values were chosen, and which rows the page's own figures force to model points."""
    catalogue.check_lang(lang)
    rows = result.table.assign(label=labels(result, lang)).set_index("driver")
    text = _t(lang, "points.intro")
    forced = [d for d in rows.index if d not in ("other", "total")
              and any(n.code == "not_fit" for n in result.notes[d])]
    if not forced:
        return text + _t(lang, "points.none")
    names = ", ".join(_sentence_name(rows.loc[d, "label"]) for d in forced)
    first = {n["period"]: n for n in result.notes[forced[0]] if n.code == "not_fit"}
    r = rows.loc[forced[0]]
    if len(forced) == 1 and {result.start, result.end} <= set(first):
        v0, v1 = first[result.start]["value"], first[result.end]["value"]
        text += _t(lang, "points.modelled", rows=names,
                   printed=_t(lang, "points.printed_pair", start=significant(v0, lang, 4), p0=result.start,
                              end=significant(v1, lang, 4), p1=result.end),
                   growth=number((v1 / v0 - 1) * 100, lang, 0),
                   allowed=interval(r["growth_pct_low"], r["growth_pct_high"], lang, 0))
    else:
        text += _t(lang, "points.modelled_short", rows=names)
    other = rows.loc["other"]
    if other["point_basis"] == "model":
        text += _t(lang, "points.other", printed=significant(other["change_printed"], lang, 4),
                   unit=_unit(lang, result.unit), model=number(other["change"], lang),
                   range=ends_of(other, "change", lang, result.unit))
    return text


def data_line(result: Contributions, data_path: str, convention: object, lang: str = "nb") -> str:
    """One Markdown line saying what the decomposition ran on: data, periods, convention, unit, drivers."""
    source = _t(lang, "data_line.published") if result.published else data_path
    return _t(lang, "data_line.line", source=source, start=result.start, end=result.end, convention=convention,
              unit=_unit(lang, result.unit), drivers=describe_drivers(result.drivers, lang))


def describe_drivers(drivers: Mapping[str, Sequence[Key]], lang: str = "en") -> str:
    """One line naming each driver in `lang` and the measures/flows it covers, e.g. 'PLO fastlege → kommune'."""
    def key_text(k: Key) -> str:
        name = _sentence_name(catalogue.label(lang, "measure", k[0]))
        if k[1:] == ("all", "all"):
            return name
        return (f"{'PLO' if k[0] == 'plo' else name} {catalogue.label(lang, 'party', k[1])} → "
                f"{catalogue.label(lang, 'party', k[2])}")

    return "; ".join(" + ".join(key_text(tuple(k)) for k in keys) for keys in drivers.values())


# ---------------------------------------------------------------- figures

def _tick_formatter(lang: str) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: number(v, lang, 0 if float(v).is_integer() else 1))


def _axis_unit(unit: str, lang: str) -> str:
    if unit == "million messages":
        return _t(lang, "figure.axis_million")
    return _t(lang, "figure.axis_messages") if unit == "messages" else unit


def _axis_floor(values: Sequence[float]) -> float:
    """A round number below the waterfall's lowest value; 0 when cutting the axis would gain little."""
    lo, hi = min(values), max(values)
    span = hi - lo
    if lo <= 0 or span <= 0 or span > 0.6 * hi:
        return 0.0
    tick = 10 ** math.floor(math.log10(span))
    return max(0.0, math.floor((lo - 0.2 * span) / tick) * tick)


def plot_waterfall(result: Contributions, lang: str = "nb") -> plt.Figure:
    """Waterfall from the start total to the end total, one bar per driver and other, with bound whiskers."""
    catalogue.check_lang(lang)
    rows = result.table.assign(label=labels(result, lang)).set_index("driver")
    total = rows.loc["total"]
    steps = [d for d in rows.index if d != "total"]
    s, e = result.start, result.end
    word = _t(lang, "driver.total")
    ticks = [f"{word} {s}"] + [wrap(rows.loc[d, "label"], 16) for d in steps] + [f"{word} {e}"]
    cum = np.concatenate([[total["start"]], total["start"] + np.cumsum(rows.loc[steps, "change"].to_numpy())])
    floor = _axis_floor([*cum, total["start_low"], total["end_low"]])
    pal = colors(4)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.35 * len(ticks) + 1), 5.2))
    x = np.arange(len(ticks))

    def whisker(xi: float, y: float, lo: float, hi: float) -> None:
        ax.errorbar(xi, y, yerr=[[max(y - lo, 0)], [max(hi - y, 0)]], fmt="none", ecolor="black",
                    elinewidth=1.2, capsize=5)

    for xi, key in ((x[0], "start"), (x[-1], "end")):
        ax.bar(xi, total[key] - floor, bottom=floor, color=pal[0], edgecolor="black", linewidth=0.5)
        whisker(xi, total[key], total[f"{key}_low"], total[f"{key}_high"])
        ax.annotate(number(total[key], lang, unit=result.unit),
                    (xi, total[f"{key}_high"]), xytext=(0, 4), textcoords="offset points", ha="center",
                    fontsize=9, fontweight="bold")
    for i, d in enumerate(steps, start=1):
        r = rows.loc[d]
        up = r["change"] >= 0
        color, hatch = (pal[2], HATCHES[2]) if d == "other" else ((pal[1], HATCHES[1]) if up else (pal[3], HATCHES[3]))
        ax.bar(x[i], r["change"], bottom=cum[i - 1], color=color, hatch=hatch, edgecolor="black", linewidth=0.5)
        # the whisker sits at the bar's end: start of the bar plus the change's bounds
        whisker(x[i], cum[i], cum[i - 1] + r["change_low"], cum[i - 1] + r["change_high"])
        ax.plot([x[i - 1] - 0.4, x[i] + 0.4], [cum[i - 1]] * 2, color="grey", linewidth=0.7, linestyle=":")
        tag = "\n" + _t(lang, "point_basis.model") if r.get("point_basis") == "model" else ""
        ax.annotate(("+" if up else "") + number(r["change"], lang, unit=result.unit) + tag,
                    (x[i], max(cum[i - 1], cum[i - 1] + r["change_high"])), xytext=(0, 4),
                    textcoords="offset points", ha="center", fontsize=9, linespacing=1.1)
    ax.plot([x[-2] - 0.4, x[-1] + 0.4], [cum[-1]] * 2, color="grey", linewidth=0.7, linestyle=":")
    ax.set_xticks(x, ticks, fontsize=9)
    top = max(ax.get_ylim()[1], float(np.max(cum)), float(total["end_high"]))
    ax.set_ylim(floor, top + 0.1 * (top - floor))  # room for the labels above the bars
    ax.yaxis.set_major_formatter(_tick_formatter(lang))
    ax.set_ylabel(_axis_unit(result.unit, lang))
    ax.set_title(_t(lang, "figure.waterfall_title", s=s, e=e))
    caption = _t(lang, "figure.waterfall_caption" if result.published else "figure.waterfall_caption_data")
    if floor > 0:
        caption += _t(lang, "figure.axis_floor", floor=number(floor, lang, 0))
    if (rows["point_basis"] == "model").any():
        caption += "\n" + _t(lang, "figure.model_caption")
    lines = caption.count("\n") + 1
    fig.text(0.01, 0.01, caption, fontsize=8, color="dimgray", va="bottom")
    fig.tight_layout(rect=(0, 0.04 * lines, 1, 1))
    return fig


def plot_pp(result: Contributions, lang: str = "nb") -> plt.Figure:
    """Horizontal bars of each row's percentage-point contribution to total growth, with bound whiskers."""
    catalogue.check_lang(lang)
    t = result.table.assign(label=labels(result, lang)).iloc[::-1].reset_index(drop=True)
    pal = colors(3)
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(t) + 1.6))
    y = np.arange(len(t))
    col = [pal[0] if d == "total" else (pal[2] if d == "other" else pal[1]) for d in t["driver"]]
    ax.barh(y, t["pp"].fillna(0), color=col, edgecolor="black", linewidth=0.5)
    err = np.vstack([(t["pp"] - t["pp_low"]).clip(lower=0), (t["pp_high"] - t["pp"]).clip(lower=0)])
    ax.errorbar(t["pp"], y, xerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=4)
    for yi, v, lo, hi, b in zip(y, t["pp"], t["pp_low"], t["pp_high"], t["point_basis"], strict=True):
        if math.isnan(v):
            continue
        left = v < 0
        end = (min(v, lo) if left else max(v, hi)) if math.isfinite(lo) and math.isfinite(hi) else v
        tag = f" ({_t(lang, 'point_basis.model')})" if b == "model" else ""
        ax.annotate(number(v, lang) + tag, (end, yi), xytext=(-6 if left else 6, 0), textcoords="offset points",
                    va="center", ha="right" if left else "left", fontsize=9)
    ax.margins(x=0.2)
    ax.set_yticks(y, t["label"])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(_t(lang, "figure.pp_axis"))
    ax.set_title(_t(lang, "figure.pp_title", s=result.start, e=result.end))
    fig.tight_layout()
    return fig


def plot_counterfactual(variants: Sequence[Counterfactual], lang: str = "nb") -> plt.Figure:
    """Start total, end total and one modelled counterfactual per variant, against the plateau band."""
    catalogue.check_lang(lang)
    first = variants[0]
    c0 = first.table.set_index("quantity")
    s, e = first.start, first.end
    word = _t(lang, "driver.total")
    bars = [(f"{word} {s}", c0.loc["start_total"], False), (f"{word} {e}", c0.loc["end_total"], False)]
    for cf in variants:
        bars.append((variant_title(cf, lang), cf.table.set_index("quantity").loc["counterfactual_total"], True))
    pal = colors(2)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    x = np.arange(len(bars))
    if "plateau" in c0.index:
        pl = c0.loc["plateau"]
        ax.axhspan(pl["low"], pl["high"], color="grey", alpha=0.2, zorder=0)
        ax.axhline(pl["value"], color="grey", linestyle="--", linewidth=1, zorder=0)
        ax.text(len(bars) - 0.5, pl["high"],
                _t(lang, "figure.plateau_band", range=interval(pl["low"], pl["high"], lang, 0)),
                ha="right", va="bottom", fontsize=8, color="dimgray")
    for xi, (_, r, modelled) in zip(x, bars, strict=True):
        ax.bar(xi, r["value"], color=pal[1] if modelled else pal[0], hatch=HATCHES[1] if modelled else "",
               edgecolor="black", linewidth=0.5, alpha=0.85 if modelled else 1)
        ax.errorbar(xi, r["value"], yerr=[[r["value"] - r["low"]], [r["high"] - r["value"]]], fmt="none",
                    ecolor="black", capsize=4)
        ax.annotate(number(r["value"], lang, unit=first.unit), (xi, r["high"]),
                    xytext=(0, 4), textcoords="offset points",
                    ha="center", fontsize=9)
    tag = _t(lang, "figure.modelled")
    ax.set_xticks(x, [wrap(b[0], 24) + (tag if b[2] else "") for b in bars], fontsize=9)
    ax.yaxis.set_major_formatter(_tick_formatter(lang))
    ax.set_ylabel(_axis_unit(first.unit, lang))
    ax.set_title(_t(lang, "figure.cf_title", e=e))
    caption = _t(lang, "figure.cf_caption", e=e, assume=_t(lang, "summary.no_substitution"))
    fig.text(0.01, 0.01, wrap(caption, 150), fontsize=8, color="dimgray", va="bottom")
    fig.tight_layout(rect=(0, 0.05 * (wrap(caption, 150).count("\n") + 1), 1, 1))
    return fig


# ---------------------------------------------------------------- the reverse Helseboka flow

def helseboka_sentence(comparison: HelsebokaComparison, lang: str = "nb") -> str:
    """Say in words what adding the reverse flow kommune → fastlege changes (from compare_helseboka_result);
    say that there is nothing to compare when the comparison is empty."""
    catalogue.check_lang(lang)
    if comparison.empty:
        return _t(lang, "helseboka.none")
    c = comparison.table.set_index(["include_reverse_helseboka", "driver"])
    one, both = c.loc[(False, "helseboka")], c.loc[(True, "helseboka")]
    o1, o2 = c.loc[(False, "other")], c.loc[(True, "other")]

    def pp(r: pd.Series) -> str:
        model = _t(lang, "summary.model") if r.get("point_basis") == "model" else ""
        d = decimals_with_bounds(r["pp"], r["pp_low"], r["pp_high"])
        return _t(lang, "helseboka.pp", pp=number(r["pp"], lang, d), model=model, ppi=ends_of(r, "pp", lang))

    kind = "published" if comparison.published else "data"
    return _t(lang, "helseboka.sentence", driver=_t(lang, f"helseboka.driver_{kind}"), one=pp(one),
              way=_t(lang, f"helseboka.way_{kind}"), both=pp(both), rest=_t(lang, "helseboka.rest"),
              o1=pp(o1), o2=pp(o2))


def display_helseboka(comparison: HelsebokaComparison, lang: str = "nb") -> pd.DataFrame:
    """Return the comparison from compare_helseboka_result as text: reading, row, change, pp and share with bounds."""
    catalogue.check_lang(lang)
    table = comparison.table
    flow = _t(lang, "helseboka.flow_published" if comparison.published else "helseboka.flow_data")
    out = pd.DataFrame({
        _t(lang, "table.reading"): [_t(lang, "helseboka.both_ways" if r else "helseboka.one_way")
                                    for r in table["include_reverse_helseboka"]],
        _t(lang, "table.row"): [_t(lang, "driver.other") if d == "other" else flow for d in table["driver"]],
        _t(lang, "table.point_basis"): [_t(lang, f"point_basis.{b}") for b in table["point_basis"]],
    })
    rows = table.to_dict("records")
    for col, u in (("change", comparison.unit), ("pp", "percent"), ("share_pct", "percent")):
        out[_t(lang, f"table.{col}")] = [cell(r, col, lang, u) for r in rows]
    return out.set_index(list(out.columns[:2]))


# ---------------------------------------------------------------- key findings

def _f(lang: str, key: str, /, **values: object) -> str:
    """Message `findings.decompose.<key>` in `lang`."""
    return catalogue.text(lang, f"findings.decompose.{key}", **values)


def _fname(rows: pd.DataFrame, driver: str, lang: str, short: bool = False) -> str:
    """A driver in plain words; a driver the catalogue does not name by its row label."""
    return findings.driver_name(driver, lang, short, fallback=_mid_sentence(row_label(rows.loc[driver, "label"], lang)))


def _moved(r: pd.Series, col: str, lang: str, unit: str) -> tuple[bool, str]:
    """Whether a quantity rose, and the size of its change as a range in words."""
    up = r[col] >= 0
    lo, hi = (r[f"{col}_low"], r[f"{col}_high"]) if up else (-r[f"{col}_high"], -r[f"{col}_low"])
    return bool(up), findings.between(lo, hi, lang, unit, value=abs(r[col]))


def key_findings(result: Contributions, cf: Counterfactual | None = None, lang: str = "nb") -> KeyFindings:
    """The page's key findings (analysis.present.findings): the total change, how much of it the excluded drivers
    explain, the two largest drivers' shares, the end total without them and the change of all other messages."""
    catalogue.check_lang(lang)
    rows = result.table.set_index("driver")
    total, unit = rows.loc["total"], result.unit
    up, change = _moved(total, "change", lang, unit)
    _, growth = _moved(total, "growth_pct", lang, "percent")
    out = [_f(lang, "total_up" if up else "total_down", start=result.start, end=result.end, change=change,
              growth=growth)]
    c = cf.table.set_index("quantity") if cf is not None else None
    if c is not None:
        ex = c.loc["excluded_change"]
        names = join_words([_fname(rows, d, lang) for d in cf.exclude if d in rows.index], lang)
        ex_up, rng = _moved(pd.Series({"x": ex["value"], "x_low": ex["low"], "x_high": ex["high"]}), "x", lang, unit)
        if up and ex["low"] > total["change_high"] / 2:  # more than half of the growth, at every allowed value
            out.append(_f(lang, "most", names=names, range=rng))
        else:
            out.append(_f(lang, "drivers_up" if ex_up else "drivers_down", names=sentence_case(names), range=rng))
    drivers = rows.drop(index=["other", "total"])
    drivers = drivers[np.isfinite(drivers["share_pct"].astype(float))].sort_values("share_pct", ascending=False)
    named = set(cf.exclude) if cf is not None else set()  # named in full above: the short name here
    share = [(sentence_case(_fname(rows, d, lang, d in named)) if k == 0 else _fname(rows, d, lang, d in named),
              findings.between(r["share_pct_low"], r["share_pct_high"], lang, "percent"))
             for k, (d, r) in enumerate(drivers.head(2).iterrows())]
    if len(share) == 2:
        out.append(_f(lang, "shares", first=share[0][0], share=share[0][1], second=share[1][0], share2=share[1][1]))
    elif share:
        out.append(_f(lang, "share_one", first=share[0][0], share=share[0][1]))
    if c is not None:
        ct = c.loc["counterfactual_total"]
        values = {"names": join_words([_fname(rows, d, lang, True) for d in cf.exclude if d in rows.index], lang),
                  "end": cf.end, "range": findings.between(ct["low"], ct["high"], lang, unit, value=ct["value"])}
        if "plateau" in c.index:
            pl = c.loc["plateau"]
            where = ("below" if ct["high"] < pl["low"] else "above" if ct["low"] > pl["high"] else "within")
            plateau = findings.hedged(pl["value"], "about", lang)  # the page's "rundt 200 millioner"
            out.append(_f(lang, "cf_plateau", where=_f(lang, where), plateau=plateau, **values))
        else:
            out.append(_f(lang, "cf", **values))
    other_up, other = _moved(rows.loc["other"], "change", lang, unit)
    out.append(_f(lang, "other_up" if other_up else "other_down", range=other))
    return findings.block(out, lang)
