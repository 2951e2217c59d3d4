"""Tables, sentences and figures for readers of the growth decomposition (notebook 02), in nb or en.

The numbers come from :func:`analysis.decompose.contributions` and :func:`analysis.decompose.counterfactual`;
this module labels and formats them (:mod:`analysis.present.formatting`) and draws them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from analysis.present import i18n
from analysis.decompose import DRIVER_LABELS, HELSEBOKA_REVERSE, Key, _driver_label
from analysis.present.formatting import decimals_for, decimals_with_bounds, interval, number, significant, with_bounds
from analysis.present.plotting import HATCHES, colors, wrap

# ---------------------------------------------------------------- tables and sentences

POINT_BASIS = {
    "printed": {"nb": "regnet fra trykte tall", "en": "from the printed figures"},
    "model": {"nb": "modellert punkt", "en": "model point"},
    "data": {"nb": "fra filen", "en": "from the file"},
}
# The words a model point carries wherever its number is shown.
MODEL_POINT = POINT_BASIS["model"]
# The counterfactual's assumption, shown beside it in the table note, the sentence and the figure.
NO_SUBSTITUTION = {
    "nb": "antar ingen vridning: ingen andre meldinger ville ha erstattet de utelatte driverne",
    "en": "assumes no substitution: no other messages would have replaced the excluded drivers",
}


def labels(table: pd.DataFrame, lang: str) -> list[str]:
    """Row labels of a contributions table in `lang` (the table's own label for drivers not known here)."""
    both = HELSEBOKA_REVERSE in [tuple(k) for k in table.attrs.get("drivers", {}).get("helseboka", [])]
    published = table.attrs.get("published", True)
    per_measure = table.attrs.get("per_measure", False)
    return [_driver_label(d, both, published, lang, per_measure) if d in DRIVER_LABELS else own
            for d, own in zip(table["driver"], table["label"], strict=True)]


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


def cell(row: Mapping, col: str, lang: str, unit: str | None = None, digits: int | None = None) -> str:
    """One quantity of a row as "point [low–high]" (:func:`analysis.present.formatting.with_bounds`) with round brackets
    at the ends that are not attained; "–" when the point is missing."""
    v, lo, hi = row[col], row[f"{col}_low"], row[f"{col}_high"]
    if v is None or not math.isfinite(v):
        return "–"
    return with_bounds(v, lo, hi, lang, digits, unit=unit, low_closed=_closed(row, col, "low"),
                       high_closed=_closed(row, col, "high"))


def display_table(table: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return the contributions table as text, "point [low–high]", with headers in `lang`."""
    i18n.check_lang(lang)
    unit = table.attrs.get("unit")
    s, e = table.attrs.get("start", "start"), table.attrs.get("end", "end")
    heads = {
        "start": {"nb": f"nivå {s}", "en": f"level {s}"},
        "end": {"nb": f"nivå {e}", "en": f"level {e}"},
        "change": {"nb": "endring", "en": "change"},
        "pp": {"nb": "bidrag, prosentpoeng", "en": "contribution, percentage points"},
        "share_pct": {"nb": "andel av endringen, %", "en": "share of the change, %"},
        "growth_pct": {"nb": "egen vekst, %", "en": "own growth, %"},
    }
    out = pd.DataFrame({i18n.pick({"nb": "driver", "en": "driver"}, lang): labels(table, lang)})
    out[i18n.pick({"nb": "punktverdiene er", "en": "point values are"}, lang)] = [
        i18n.label(POINT_BASIS, b, lang) for b in table.get("point_basis", pd.Series("printed", index=table.index))]
    rows = table.to_dict("records")
    for col, head in heads.items():
        u = unit if col in ("start", "end", "change") else "percent"
        out[i18n.pick(head, lang)] = [cell(r, col, lang, u) for r in rows]
    out[i18n.pick({"nb": "merknad", "en": "note"}, lang)] = table["note"]
    return out.set_index(out.columns[0])


def display_counterfactual(cf: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return the counterfactual table as text, "point [low–high]", with names and headers in `lang`."""
    i18n.check_lang(lang)
    names = {
        "start_total": {"nb": f"total {cf.attrs.get('start')}", "en": f"total {cf.attrs.get('start')}"},
        "end_total": {"nb": f"total {cf.attrs.get('end')}", "en": f"total {cf.attrs.get('end')}"},
        "excluded_change": {"nb": "endring i utelatte drivere", "en": "change in excluded drivers"},
        "counterfactual_total": {"nb": "kontrafaktisk total (modellert)", "en": "counterfactual total (modelled)"},
        "counterfactual_change": {"nb": "kontrafaktisk endring (modellert)",
                                  "en": "counterfactual change (modelled)"},
        "counterfactual_growth_pct": {"nb": "kontrafaktisk vekst, % (modellert)",
                                      "en": "counterfactual growth, % (modelled)"},
        "plateau": {"nb": "«rundt 200 millioner» (årene før)", "en": "\"about 200 million\" (the years before)"},
    }
    rows = [{"value": r["value"], "value_low": r["low"], "value_high": r["high"],
             "value_low_closed": r.get("low_closed", True), "value_high_closed": r.get("high_closed", True),
             "unit": r["unit"]} for r in cf.to_dict("records")]
    return pd.DataFrame({
        i18n.pick({"nb": "størrelse", "en": "quantity"}, lang): [
            i18n.pick(names[q], lang) if q in names else q for q in cf["quantity"]],
        i18n.pick({"nb": "verdi [mulige verdier]", "en": "value [possible values]"}, lang): [
            cell(r, "value", lang, r["unit"]) for r in rows],
        i18n.pick({"nb": "merknad", "en": "note"}, lang): cf["note"],
    }).set_index(i18n.pick({"nb": "størrelse", "en": "quantity"}, lang))


_SUMMARY = {
    "read": {
        "nb": "Etter hvert intervall står verdiene {what}; en hakeparentes betyr at endepunktet selv er mulig, en "
              "rund parentes at det ikke er det (det kommer fra et «over» eller «nesten», eller fra den åpne øvre "
              "enden av et avrundingsintervall: «193» er [192,5–193,5)). Tallene foran intervallet er regnet fra de "
              "trykte tallene, bortsett fra der det står *modellert punkt*: der utelukker sidens egne tall det "
              "trykte tallet, og punktet er valgt innenfor det de tillater.",
        "en": "Each interval gives the values {what}; a square bracket means the end itself is possible, a round "
              "bracket that it is not (it comes from an \"over\" or \"nesten\", or from the open upper end of a "
              "rounding interval: \"193\" is [192.5–193.5)). The numbers before the intervals are worked out "
              "from the printed figures, except where it says *model point*: there the "
              "page's own figures rule the printed figure out, and the point is chosen inside what they allow.",
    },
    "read_data": {
        "nb": "Etter hvert intervall står verdiene {what}; en hakeparentes betyr at endepunktet selv er mulig, en "
              "rund parentes at det ikke er det (som den øvre enden av et avrundingsintervall). Tallene foran "
              "intervallet er regnet fra verdiene i filen.",
        "en": "Each interval gives the values {what}; a square bracket means the end itself is possible, a round "
              "bracket that it is not (as the upper end of a rounding interval). The numbers before the intervals "
              "are worked out from the values in the file.",
    },
    "what_published": {"nb": "alle tallene på siden tillater samlet",
                       "en": "all the figures on the page allow jointly"},
    "what_data": {"nb": "radenes intervaller tillater", "en": "the rows' intervals allow"},
    "total": {
        "nb": "Fra {s} til {e} {verb} totalen med {c} {unit}, intervall {ci}, det vil si {pp} prosentpoeng, "
              "intervall {ppi}.",
        "en": "From {s} to {e} the total {verb} by {c} {unit}, interval {ci}, that is {pp} percentage points, "
              "interval {ppi}.",
    },
    "up": {"nb": "økte", "en": "grew"},
    "down": {"nb": "falt", "en": "fell"},
    "driver": {
        "nb": "{name}{alone} forklarer om lag {pp}{model} av de {tpp} prosentpoengene, intervall {ppi}, og {sh} % "
              "av økningen, intervall {shi}.",
        "en": "{name}{alone} explains about {pp}{model} of the {tpp} percentage points, interval {ppi}, and {sh} % "
              "of the increase, interval {shi}.",
    },
    "helseboka": {
        "nb": " Siden sier at veksten «i hovedsak» er meldinger til og fra Helseboka AS, så Helseboka forklarer "
              "høyst så mye.",
        "en": " The page says the growth is \"i hovedsak\" (mainly) messages to and from Helseboka AS, so "
              "Helseboka explains at most this much.",
    },
    "alone": {"nb": " alene", "en": " alone"},
    "model": {"nb": " (modellert punkt)", "en": " (model point)"},
    "other": {
        "nb": "{name} (totalen minus driverne) er {c} {unit}{basis}, intervall {ci}, eller {pp} prosentpoeng, "
              "intervall {ppi}; meldingene utenom driverne endret seg med {g} %, intervall {gi}.",
        "en": "{name} (the total minus the drivers) is {c} {unit}{basis}, interval {ci}, or {pp} percentage points, "
              "interval {ppi}; the messages outside the drivers changed by {g} %, interval {gi}.",
    },
    "other_model": {
        "nb": " (modellert punkt; de trykte tallene, tatt som eksakte, gir {p})",
        "en": " (model point; the printed figures, taken as exact, give {p})",
    },
    "cf": {
        "nb": "Uten endringen i {names} ville {e} hatt om lag {v} {unit}, intervall {vi}, en modellert størrelse som "
              "{assume}",
        "en": "Without the change in {names}, {e} would have had about {v} {unit}, interval {vi}, a modelled "
              "quantity that {assume}",
    },
    "plateau": {
        "nb": "; det er {where} nivået på «rundt 200 millioner» fra årene før, intervall {pi}",
        "en": "; that is {where} the \"about 200 million\" level of the years before, interval {pi}",
    },
    "within": {"nb": "innenfor", "en": "within"},
    "outside": {"nb": "utenfor", "en": "outside"},
}


def _sentence_name(label: str) -> str:
    """A row label as the subject of a sentence, without the parenthetical: 'PLO fastlege → kommune'."""
    return label.split(" (")[0]


def summary_text(table: pd.DataFrame, cf: pd.DataFrame | None = None, lang: str = "nb") -> str:
    """Return plain-language sentences a briefing can quote, every number taken from the tables."""
    i18n.check_lang(lang)
    rows = table.assign(label=labels(table, lang)).set_index("driver")
    total, other = rows.loc["total"], rows.loc["other"]
    unit_key = table.attrs.get("unit", "messages")
    unit = i18n.label(i18n.UNITS, unit_key, lang)
    published = table.attrs.get("published", True)

    def n(x: float, u: str | None = None) -> str:
        return number(x, lang, unit=u)

    def iv(r: pd.Series, col: str, u: str | None = None, digits: int | None = None) -> str:
        d = decimals_for(r[col], u) if digits is None else digits
        return ends(r[f"{col}_low"], r[f"{col}_high"], lang, d, _closed(r, col, "low"), _closed(r, col, "high"))

    def share(x: float) -> int:
        return 0 if math.isfinite(x) and abs(x) >= 10 else 1

    def model(r: pd.Series) -> str:
        return i18n.pick(_SUMMARY["model"], lang) if r.get("point_basis") == "model" else ""

    what = i18n.pick(_SUMMARY["what_published" if published else "what_data"], lang)
    lines = [i18n.pick(_SUMMARY["read" if published else "read_data"], lang).format(what=what)]
    tpp = n(total["pp"])
    up = total["change"] >= 0
    if up:
        ci = iv(total, "change", unit_key)
    else:  # the size of a fall: the bounds of minus the change
        d = decimals_for(total["change"], unit_key)
        ci = ends(-total["change_high"], -total["change_low"], lang, d, _closed(total, "change", "high"),
                  _closed(total, "change", "low"))
    lines.append(i18n.pick(_SUMMARY["total"], lang).format(
        s=table.attrs.get("start"), e=table.attrs.get("end"), c=n(abs(total["change"]), unit_key),
        verb=i18n.pick(_SUMMARY["up" if up else "down"], lang), ci=ci, unit=unit, pp=tpp, ppi=iv(total, "pp")))
    drivers = [d for d in rows.index if d not in ("other", "total")]
    for i, d in enumerate(sorted(drivers, key=lambda d: -abs(np.nan_to_num(rows.loc[d, "pp"])))):
        r = rows.loc[d]
        text = i18n.pick(_SUMMARY["driver"], lang).format(
            name=_sentence_name(r["label"]) if d == "helseboka" else r["label"],
            alone=i18n.pick(_SUMMARY["alone"], lang) if i == 0 else "", pp=n(r["pp"]), model=model(r),
            tpp=tpp, ppi=iv(r, "pp"), sh=number(r["share_pct"], lang, share(r["share_pct"])),
            shi=iv(r, "share_pct", "percent", share(r["share_pct"])))
        if d == "helseboka" and published:
            text += i18n.pick(_SUMMARY["helseboka"], lang)
        lines.append(text)
    basis = ""
    if other.get("point_basis") == "model":
        basis = i18n.pick(_SUMMARY["other_model"], lang).format(p=significant(other["change_printed"], lang, 4))
    lines.append(i18n.pick(_SUMMARY["other"], lang).format(
        name=other["label"], c=n(other["change"], unit_key), unit=unit, basis=basis, ci=iv(other, "change", unit_key),
        pp=n(other["pp"]), ppi=iv(other, "pp"), g=n(other["growth_pct"]), gi=iv(other, "growth_pct", "percent")))
    if cf is not None:
        c = cf.set_index("quantity")
        ct = c.loc["counterfactual_total"].to_dict()
        ct = {"value": ct["value"], "value_low": ct["low"], "value_high": ct["high"],
              "value_low_closed": ct.get("low_closed", True), "value_high_closed": ct.get("high_closed", True)}
        text = i18n.pick(_SUMMARY["cf"], lang).format(
            names=driver_names(cf.attrs.get("exclude", []), lang), e=cf.attrs.get("end"),
            v=n(ct["value"], unit_key), unit=unit, vi=iv(pd.Series(ct), "value", unit_key),
            assume=i18n.pick(NO_SUBSTITUTION, lang))
        if "plateau" in c.index:
            pl = c.loc["plateau"]
            overlap = ct["value_low"] <= pl["high"] and ct["value_high"] >= pl["low"]
            text += i18n.pick(_SUMMARY["plateau"], lang).format(
                where=i18n.pick(_SUMMARY["within" if overlap else "outside"], lang),
                pi=ends(pl["low"], pl["high"], lang, 0, bool(pl.get("low_closed", True)),
                        bool(pl.get("high_closed", True))))
        lines.append(text + ".")
    return "\n\n".join(lines)


# ---------------------------------------------------------------- figures

_UNIT_AXIS = {
    "million messages": {"nb": "millioner meldinger", "en": "million messages"},
    "messages": {"nb": "antall meldinger", "en": "number of messages"},
}


def _tick_formatter(lang: str) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: number(v, lang, 0 if float(v).is_integer() else 1))


def _axis_unit(table: pd.DataFrame, lang: str) -> str:
    return i18n.label(_UNIT_AXIS, table.attrs.get("unit", "messages"), lang)


def _axis_floor(values: Sequence[float]) -> float:
    """A round number below the waterfall's lowest value; 0 when cutting the axis would gain little."""
    lo, hi = min(values), max(values)
    span = hi - lo
    if lo <= 0 or span <= 0 or span > 0.6 * hi:
        return 0.0
    tick = 10 ** math.floor(math.log10(span))
    return max(0.0, math.floor((lo - 0.2 * span) / tick) * tick)


def plot_waterfall(table: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Waterfall from the start total to the end total, one bar per driver and other, with bound whiskers."""
    i18n.check_lang(lang)
    rows = table.assign(label=labels(table, lang)).set_index("driver")
    total = rows.loc["total"]
    steps = [d for d in rows.index if d != "total"]
    s, e = table.attrs.get("start", "start"), table.attrs.get("end", "end")
    word = i18n.pick(DRIVER_LABELS["total"], lang)
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
        ax.annotate(number(total[key], lang, unit=table.attrs.get("unit")),
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
        tag = "\n" + i18n.pick(MODEL_POINT, lang) if r.get("point_basis") == "model" else ""
        ax.annotate(("+" if up else "") + number(r["change"], lang, unit=table.attrs.get("unit")) + tag,
                    (x[i], max(cum[i - 1], cum[i - 1] + r["change_high"])), xytext=(0, 4),
                    textcoords="offset points", ha="center", fontsize=9, linespacing=1.1)
    ax.plot([x[-2] - 0.4, x[-1] + 0.4], [cum[-1]] * 2, color="grey", linewidth=0.7, linestyle=":")
    ax.set_xticks(x, ticks, fontsize=9)
    top = max(ax.get_ylim()[1], float(np.max(cum)), float(total["end_high"]))
    ax.set_ylim(floor, top + 0.1 * (top - floor))  # room for the labels above the bars
    ax.yaxis.set_major_formatter(_tick_formatter(lang))
    ax.set_ylabel(_axis_unit(table, lang))
    ax.set_title(i18n.pick({"nb": f"Fra {s} til {e}: hva endringen består av",
                            "en": f"From {s} to {e}: what the change is made of"}, lang))
    caption = i18n.pick({
        "nb": "Streker: verdiene som er mulige når alle tallene (avrundet, med forbehold) skal stemme samtidig.",
        "en": "Whiskers: the values possible when all figures (rounded, with hedge words) must hold at once.",
    } if table.attrs.get("published", True) else {
        "nb": "Streker: verdiene som radenes intervaller tillater.",
        "en": "Whiskers: the values the rows' intervals allow.",
    }, lang)
    if floor > 0:
        caption += i18n.pick({"nb": f" Merk: aksen starter på {number(floor, lang, 0)}, ikke 0.",
                              "en": f" Note: the axis starts at {number(floor, lang, 0)}, not 0."}, lang)
    if (rows["point_basis"] == "model").any() if "point_basis" in rows else False:
        caption += "\n" + i18n.pick(_MODEL_CAPTION, lang)
    lines = caption.count("\n") + 1
    fig.text(0.01, 0.01, caption, fontsize=8, color="dimgray", va="bottom")
    fig.tight_layout(rect=(0, 0.04 * lines, 1, 1))
    return fig


_MODEL_CAPTION = {
    "nb": "Modellert punkt: sidens tall utelukker det trykte tallet; punktet er valgt innenfor det de tillater.",
    "en": "Model point: the page's figures rule the printed figure out; the point is chosen inside what they allow.",
}


def plot_pp(table: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """Horizontal bars of each row's percentage-point contribution to total growth, with bound whiskers."""
    i18n.check_lang(lang)
    t = table.assign(label=labels(table, lang)).iloc[::-1].reset_index(drop=True)
    pal = colors(3)
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(t) + 1.6))
    y = np.arange(len(t))
    col = [pal[0] if d == "total" else (pal[2] if d == "other" else pal[1]) for d in t["driver"]]
    ax.barh(y, t["pp"].fillna(0), color=col, edgecolor="black", linewidth=0.5)
    err = np.vstack([(t["pp"] - t["pp_low"]).clip(lower=0), (t["pp_high"] - t["pp"]).clip(lower=0)])
    ax.errorbar(t["pp"], y, xerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=4)
    basis = t["point_basis"] if "point_basis" in t else pd.Series("printed", index=t.index)
    for yi, v, lo, hi, b in zip(y, t["pp"], t["pp_low"], t["pp_high"], basis, strict=True):
        if math.isnan(v):
            continue
        left = v < 0
        end = (min(v, lo) if left else max(v, hi)) if math.isfinite(lo) and math.isfinite(hi) else v
        tag = f" ({i18n.pick(MODEL_POINT, lang)})" if b == "model" else ""
        ax.annotate(number(v, lang) + tag, (end, yi), xytext=(-6 if left else 6, 0), textcoords="offset points",
                    va="center", ha="right" if left else "left", fontsize=9)
    ax.margins(x=0.2)
    ax.set_yticks(y, t["label"])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(i18n.pick({"nb": "bidrag til totalveksten, prosentpoeng",
                             "en": "contribution to total growth, percentage points"}, lang))
    s, e = table.attrs.get("start", "start"), table.attrs.get("end", "end")
    ax.set_title(i18n.pick({"nb": f"Bidrag til veksten {s}–{e} (endring / total {s} × 100)",
                            "en": f"Contributions to growth {s}–{e} (change / total {s} × 100)"}, lang))
    fig.tight_layout()
    return fig


def plot_counterfactual(cfs: Mapping[str, pd.DataFrame], lang: str = "nb") -> plt.Figure:
    """Start total, end total and one modelled counterfactual per variant, against the plateau band."""
    i18n.check_lang(lang)
    first = next(iter(cfs.values()))
    c0 = first.set_index("quantity")
    s, e = first.attrs.get("start", "start"), first.attrs.get("end", "end")
    bars = [(f"{i18n.pick(DRIVER_LABELS['total'], lang)} {s}", c0.loc["start_total"], False),
            (f"{i18n.pick(DRIVER_LABELS['total'], lang)} {e}", c0.loc["end_total"], False)]
    for name, cf in cfs.items():
        bars.append((name, cf.set_index("quantity").loc["counterfactual_total"], True))
    pal = colors(2)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    x = np.arange(len(bars))
    if "plateau" in c0.index:
        pl = c0.loc["plateau"]
        ax.axhspan(pl["low"], pl["high"], color="grey", alpha=0.2, zorder=0)
        ax.axhline(pl["value"], color="grey", linestyle="--", linewidth=1, zorder=0)
        ax.text(len(bars) - 0.5, pl["high"], i18n.pick({
            "nb": f"«rundt 200 millioner» i årene før\n({interval(pl['low'], pl['high'], lang, 0)})",
            "en": f"\"about 200 million\" in the years before\n({interval(pl['low'], pl['high'], lang, 0)})"},
            lang),
            ha="right", va="bottom", fontsize=8, color="dimgray")
    for xi, (_, r, modelled) in zip(x, bars, strict=True):
        ax.bar(xi, r["value"], color=pal[1] if modelled else pal[0], hatch=HATCHES[1] if modelled else "",
               edgecolor="black", linewidth=0.5, alpha=0.85 if modelled else 1)
        ax.errorbar(xi, r["value"], yerr=[[r["value"] - r["low"]], [r["high"] - r["value"]]], fmt="none",
                    ecolor="black", capsize=4)
        ax.annotate(number(r["value"], lang, unit=first.attrs.get("unit")), (xi, r["high"]),
                    xytext=(0, 4), textcoords="offset points",
                    ha="center", fontsize=9)
    tag = i18n.pick({"nb": "\n(modellert)", "en": "\n(modelled)"}, lang)
    ax.set_xticks(x, [wrap(b[0], 24) + (tag if b[2] else "") for b in bars], fontsize=9)
    ax.yaxis.set_major_formatter(_tick_formatter(lang))
    ax.set_ylabel(_axis_unit(first, lang))
    ax.set_title(i18n.pick({"nb": f"{e} uten endringen i utelatte drivere: kontrafaktisk total",
                            "en": f"{e} without the excluded drivers' change: counterfactual total"}, lang))
    caption = i18n.pick({"nb": f"Modellert: totalen {e} minus endringen i de utelatte driverne; ",
                         "en": f"Modelled: the {e} total minus the excluded drivers' change; "}, lang)
    caption += i18n.pick(NO_SUBSTITUTION, lang) + "."
    caption += i18n.pick({"nb": " Streker: verdiene tallene tillater samlet.",
                          "en": " Whiskers: the values the figures allow jointly."}, lang)
    fig.text(0.01, 0.01, wrap(caption, 150), fontsize=8, color="dimgray", va="bottom")
    fig.tight_layout(rect=(0, 0.05 * (wrap(caption, 150).count("\n") + 1), 1, 1))
    return fig


# ---------------------------------------------------------------- the reverse Helseboka flow

def helseboka_sentence(comparison: pd.DataFrame, lang: str = "nb") -> str:
    """Say in words what adding the reverse flow kommune → fastlege changes (from compare_helseboka)."""
    i18n.check_lang(lang)
    c = comparison.set_index(["include_reverse_helseboka", "driver"])
    one, both = c.loc[(False, "helseboka")], c.loc[(True, "helseboka")]
    o1, o2 = c.loc[(False, "other")], c.loc[(True, "other")]
    rest = i18n.pick(DRIVER_LABELS["other"], lang)

    def pp(r: pd.Series) -> str:
        model = i18n.pick(_SUMMARY["model"], lang) if r.get("point_basis") == "model" else ""
        word = i18n.pick({"nb": "prosentpoeng", "en": "percentage points"}, lang)
        d = decimals_with_bounds(r["pp"], r["pp_low"], r["pp_high"])
        return f"{number(r['pp'], lang, d)} {word}{model}, {i18n.pick(_INTERVAL, lang)} {ends_of(r, 'pp', lang)}"

    if comparison.attrs.get("published", True):
        way = {"nb": "(sidens «til og fra»)", "en": "(the page's \"to and from\")"}
        driver = {"nb": "Helseboka-driveren", "en": "the Helseboka driver"}
    else:
        way = {"nb": "(kommune → fastlege)", "en": "(municipality → GP)"}
        driver = {"nb": "PLO-driveren", "en": "the PLO driver"}
    return i18n.pick({
        "nb": f"Med bare meldingene fra fastlege til kommune bidrar {driver['nb']} med {pp(one)}; "
              f"tar vi med meldingene den andre veien {way['nb']}, blir bidraget {pp(both)}. "
              f"Det som flyttes, tas fra «{rest}», som går fra {pp(o1)} til {pp(o2)}. Totalen er den samme.",
        "en": f"With only the messages from GPs to municipalities {driver['en']} contributes {pp(one)}; "
              f"adding the messages the other way {way['en']} makes it {pp(both)}. What moves comes out of the "
              f"\"{rest.lower()}\", which goes from {pp(o1)} to {pp(o2)}. The total is unchanged.",
    }, lang)


_INTERVAL = {"nb": "intervall", "en": "interval"}


def ends_of(row: Mapping, col: str, lang: str, unit: str | None = None) -> str:
    """The bounds of one quantity of a row in bracket notation, decimals from its point value."""
    return ends(row[f"{col}_low"], row[f"{col}_high"], lang, decimals_with_bounds(
        row[col], row[f"{col}_low"], row[f"{col}_high"], unit), _closed(row, col, "low"), _closed(row, col, "high"))


def display_helseboka(comparison: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """Return the comparison from compare_helseboka as text: reading, row, change, pp and share with bounds."""
    i18n.check_lang(lang)
    reading = {False: {"nb": "fastlege → kommune", "en": "GP → municipality"},
               True: {"nb": "begge retninger", "en": "both directions"}}
    unit = comparison["unit"].iloc[0] if len(comparison) else None
    published = comparison.attrs.get("published", True)
    flow = {"nb": "Helseboka", "en": "Helseboka"} if published else {"nb": "PLO", "en": "PLO"}
    out = pd.DataFrame({
        i18n.pick({"nb": "lesemåte", "en": "reading"}, lang): [
            i18n.pick(reading[bool(r)], lang) for r in comparison["include_reverse_helseboka"]],
        i18n.pick({"nb": "rad", "en": "row"}, lang): [
            i18n.pick(DRIVER_LABELS["other"], lang) if d == "other" else i18n.pick(flow, lang)
            for d in comparison["driver"]],
        i18n.pick({"nb": "punktverdiene er", "en": "point values are"}, lang): [
            i18n.label(POINT_BASIS, b, lang) for b in comparison["point_basis"]],
    })
    rows = comparison.to_dict("records")
    for col, head, u in (("change", {"nb": "endring", "en": "change"}, unit),
                         ("pp", {"nb": "bidrag, prosentpoeng", "en": "contribution, percentage points"}, "percent"),
                         ("share_pct", {"nb": "andel av endringen, %", "en": "share of the change, %"}, "percent")):
        out[i18n.pick(head, lang)] = [cell(r, col, lang, u) for r in rows]
    return out.set_index(list(out.columns[:2]))


# ---------------------------------------------------------------- what the decomposition ran on

def describe_drivers(drivers: Mapping[str, Sequence[Key]], lang: str = "en") -> str:
    """One line naming each driver in `lang` and the measures/flows it covers, e.g. 'PLO fastlege → kommune'."""
    def key_text(k: Key) -> str:
        name = _sentence_name(i18n.label(i18n.MEASURES, k[0], lang))
        if k[1:] == ("all", "all"):
            return name
        return (f"{'PLO' if k[0] == 'plo' else name} {i18n.label(i18n.PARTIES, k[1], lang)} → "
                f"{i18n.label(i18n.PARTIES, k[2], lang)}")

    return "; ".join(" + ".join(key_text(tuple(k)) for k in keys) for keys in drivers.values())


def data_line(table: pd.DataFrame, data_path: str, convention: object, lang: str = "nb") -> str:
    """One Markdown line saying what the decomposition ran on: data, periods, convention, unit, drivers."""
    published = table.attrs.get("published", True)
    source = i18n.pick({"nb": "de publiserte tallene (ehelse_meldingsutveksling)",
                        "en": "the published figures (ehelse_meldingsutveksling)"}, lang) if published else data_path
    words = {"nb": ("Data", "perioder", "konvensjon", "enhet", "drivere"),
             "en": ("Data", "periods", "convention", "unit", "drivers")}[i18n.check_lang(lang)]
    return (f"**{words[0]}:** {source} · **{words[1]}:** {table.attrs['start']} → {table.attrs['end']} · "
            f"**{words[2]}:** `{convention}` · **{words[3]}:** {i18n.label(i18n.UNITS, table.attrs['unit'], lang)} · "
            f"**{words[4]}:** {describe_drivers(table.attrs['drivers'], lang)}")


# ---------------------------------------------------------------- drivers named in sentences

def _mid_sentence(label: str) -> str:
    """A label as it reads inside a sentence: 'Svarrapporter' -> 'svarrapporter', 'SYSVAK' unchanged."""
    first = label.split(" ")[0]
    return label if len(first) > 1 and first.isupper() else label[:1].lower() + label[1:]


def driver_name(driver: str, lang: str = "nb") -> str:
    """A driver's short name as it reads inside a sentence: 'SYSVAK', 'svarrapporter', 'exemption card/...'."""
    if driver in DRIVER_LABELS:
        text = i18n.pick(DRIVER_LABELS[driver], lang)
    else:
        text = i18n.label(i18n.MEASURES, driver, lang)
    return _mid_sentence(text.split(" (")[0])


def driver_names(drivers: Sequence[str], lang: str = "nb") -> str:
    """Drivers' short names joined for a sentence: 'SYSVAK, svarrapporter og frikort/egenandel'."""
    names = [driver_name(d, lang) for d in drivers]
    joiner = i18n.pick({"nb": " og ", "en": " and "}, lang)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joiner + names[-1]
