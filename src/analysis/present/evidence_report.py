"""Tables, sentences and figures for readers of the published evidence on total volume (notebook 03), in nb or en.

The numbers come from :mod:`analysis.evidence`; this module labels and formats them (:mod:`analysis.present.formatting`)
and draws them. Converted and modelled values are labelled as such in every table, sentence and figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.present import i18n
from analysis.evidence import AdoptionCurve, relation_to_plateau
from analysis.present.formatting import interval, number, with_bounds
from analysis.present.plotting import wrap

# ---------------------------------------------------------------- figures

FIG = {
    "title": {"nb": "Publiserte og omregnede tall for årlig totalvolum",
              "en": "Published and converted evidence on yearly volume"},
    "y": {"nb": "millioner meldinger per år", "en": "million messages per year"},
    "x": {"nb": "år (tall plassert midt i perioden de gjelder)", "en": "year (figures placed mid-period)"},
    "published": {"nb": "publisert årstotal", "en": "published yearly total"},
    "converted": {"nb": "omregnet til årsekvivalent (antakelse, se tabell)",
                  "en": "converted to annual equivalent (assumption, see table)"},
    "plateau": {"nb": "publisert nivå «rundt 200 millioner» (år ikke oppgitt)",
                "en": "published level \"rundt 200 millioner\" (years not named)"},
    "curve": {"nb": "illustrasjon: logistisk kurve (modell, ikke data)",
              "en": "illustration: logistic curve (modelled, not data)"},
    "excess_title": {"nb": "2021: overskudd over platånivået og endringen fra pandemidriverne",
                     "en": "2021: excess over the plateau and the pandemic drivers' change"},
    "excess_x": {"nb": "millioner meldinger", "en": "million messages"},
}


def plot_evidence(evidence: pd.DataFrame, plateau: tuple[float, float], curve: AdoptionCurve | None = None,
                  lang: str = "nb") -> plt.Figure:
    """Published totals (filled), converted values (hollow, dashed whiskers), the undated plateau as a band
    across the whole axis, and optionally the illustrative curve; every kind labelled."""
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.axhspan(plateau[0], plateau[1], facecolor="0.8", alpha=0.6, hatch="..", edgecolor="0.5", linewidth=0,
               label=i18n.pick(FIG["plateau"], lang))
    if curve is not None:
        c = curve.curve
        ax.fill_between(c["x"], c["lower"], c["upper"], color="C2", alpha=0.15, linewidth=0)
        ax.plot(c["x"], c["mean"], color="C2", linestyle=":", linewidth=2, label=i18n.pick(FIG["curve"], lang))
    dated = evidence[(evidence["role"] == "total") & evidence["x"].notna()]
    for basis, style in (("published", {"fmt": "s", "color": "black", "mfc": "black", "ls": "-"}),
                         ("converted", {"fmt": "o", "color": "C0", "mfc": "white", "ls": "--"})):
        sub = dated[dated["basis"] == basis]
        if sub.empty:
            continue
        err = np.vstack([sub["value"] - sub["low"], sub["high"] - sub["value"]])
        bars = ax.errorbar(sub["x"], sub["value"], yerr=err, fmt=style["fmt"], color=style["color"],
                           mfc=style["mfc"], mec=style["color"], ms=8, capsize=5, elinewidth=1.5,
                           label=i18n.pick(FIG[basis], lang))
        bars[-1][0].set_linestyle(style["ls"])
    ax.set_ylim(0, max(320, float(dated["high"].max()) * 1.08))
    ax.set_ylabel(i18n.pick(FIG["y"], lang))
    ax.set_xlabel(i18n.pick(FIG["x"], lang))
    ax.set_title(i18n.pick(FIG["title"], lang))
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def plot_intervals(rows: pd.DataFrame, lang: str = "nb", title: str | None = None) -> plt.Figure:
    """Horizontal point-and-whisker chart of rows with label, value, low, high and kind: hollow black squares for
    published or derived figures, hollow circles for modelled rows, each with its interval written beside it (a
    narrow interval stays readable where the whisker is shorter than the marker); a line at zero."""
    fig, ax = plt.subplots(figsize=(9.5, 1.4 + 0.75 * len(rows)))
    ys = np.arange(len(rows))[::-1]
    span = float(rows["high"].max() - min(0.0, rows["low"].min()))
    for y, (_, r) in zip(ys, rows.iterrows(), strict=True):
        modelled = r["kind"] == "modelled"
        color = "C1" if modelled else "black"
        ax.errorbar(r["value"], y, xerr=[[r["value"] - r["low"]], [r["high"] - r["value"]]],
                    fmt="o" if modelled else "s", color=color, mfc="white", mec=color, ms=7 if modelled else 5, mew=1.5,
                    capsize=6, capthick=1.5, elinewidth=1.5, zorder=3)
        ax.annotate(with_bounds(r["value"], r["low"], r["high"], lang, 1), (r["high"], y), xytext=(8, 6),
                    textcoords="offset points", fontsize="small", color=color, va="bottom")
    ax.axvline(0, color="0.4", linewidth=0.8)
    ax.set_yticks(ys, [wrap(str(t), 38) for t in rows["label"]], fontsize="small")
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(min(0.0, float(rows["low"].min())) - 0.05 * span, float(rows["high"].max()) + 0.3 * span)
    ax.set_xlabel(i18n.pick(FIG["excess_x"], lang))
    handles = [
        plt.Line2D([], [], marker="s", color="black", mfc="white", mew=1.5, linestyle="none", ms=7,
                   label=i18n.pick({"nb": "avledet av publiserte tall", "en": "derived from published figures"},
                                   lang)),
        plt.Line2D([], [], marker="o", color="C1", mfc="white", mew=1.5, linestyle="none", ms=7,
                   label=i18n.pick({"nb": "modell (platå-grunnlinje)", "en": "modelled (plateau baseline)"}, lang)),
    ]
    ax.legend(handles=handles, frameon=False, fontsize="small", loc="lower right")
    ax.set_title(title or i18n.pick(FIG["excess_title"], lang))
    ax.text(0.0, -0.02, i18n.pick({"nb": "Tallene ved hver rad: punkt [intervall].",
                                   "en": "Numbers by each row: point [interval]."}, lang),
            transform=fig.transFigure, fontsize=8, color="dimgray", va="bottom")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- tables for reading

DHEAD = {
    "when": {"nb": "når", "en": "when"},
    "stated": {"nb": "slik det står", "en": "as stated"},
    "label": {"nb": "grunnlag", "en": "basis"},
    "annual": {"nb": "mill. meldinger per år [intervall]", "en": "million messages per year [interval]"},
    "relation": {"nb": "mot platået {lo}–{hi}", "en": "against the plateau {lo}–{hi}"},
    "assumption": {"nb": "antakelse", "en": "assumption"},
    "source": {"nb": "kilde", "en": "source"},
    "year": {"nb": "år", "en": "year"},
    "actual": {"nb": "publisert total [intervall]", "en": "published total [interval]"},
    "baseline": {"nb": "platå-grunnlinje [intervall] (modell)", "en": "plateau baseline [interval] (model)"},
    "excess": {"nb": "overskudd [intervall] (modell)", "en": "excess [interval] (model)"},
    "p_score": {"nb": "P-skår % [intervall]", "en": "P-score % [interval]"},
    "step": {"nb": "lest med trinn", "en": "read with step"},
    "what": {"nb": "størrelse", "en": "quantity"},
    "kind": {"nb": "type", "en": "kind"},
    "value": {"nb": "verdi [intervall]", "en": "value [interval]"},
}
RELATION = {"below": {"nb": "under", "en": "below"}, "overlaps": {"nb": "overlapper", "en": "overlaps"},
            "above": {"nb": "over", "en": "above"}}
KIND = {"published": {"nb": "publisert", "en": "published"}, "modelled": {"nb": "modell", "en": "modelled"},
        "converted": {"nb": "omregnet", "en": "converted"},
        "derived": {"nb": "avledet av publiserte tall", "en": "derived from published figures"}}


def _d(key: str, lang: str, **kw: object) -> str:
    return i18n.pick(DHEAD[key], lang).format(**kw)


STATED_UNITS = {
    "million messages": {"nb": "millioner meldinger", "en": "million messages"},
    "million messages per month": {"nb": "millioner meldinger per måned", "en": "million messages per month"},
    "messages per ordinary weekday (average)": {"nb": "meldinger per vanlig virkedag (gjennomsnitt)",
                                                "en": "messages per ordinary weekday (average)"},
}


def _stated(row: pd.Series, lang: str) -> str:
    q = "" if row["qualifier"] == "exact" else i18n.label(i18n.QUALIFIERS, row["qualifier"], lang) + " "
    digits = 0 if float(row["stated_value"]).is_integer() else 1
    return f"{q}{number(row['stated_value'], lang, digits)} {i18n.label(STATED_UNITS, row['stated_unit'], lang)}"


def display_evidence(evidence: pd.DataFrame, context: pd.DataFrame, published: pd.DataFrame,
                     plateau: tuple[float, float], lang: str = "nb") -> pd.DataFrame:
    """The annual-equivalent table for reading: when, as stated, basis, interval, relation to the plateau."""
    qual = pd.concat([
        published.set_index("figure_id")["qualifier"],
        pd.Series({f"cw_monthly_{y}": q for y, q in
                   context[context["metric"] == "total_messages_monthly"][["year", "qualifier"]].to_numpy()}),
        pd.Series({"nhn_weekday_2014": context.loc[context["metric"] == "total_medical_messages_per_weekday",
                                                   "qualifier"].iloc[0]}),
        pd.Series({f"unclassified_{y}": q for y, q in
                   context[context["metric"] == "unclassified_old_format"][["year", "qualifier"]].to_numpy()}),
    ])
    ev = evidence.assign(qualifier=evidence["evidence_id"].map(qual).fillna("exact"))
    rel = relation_to_plateau(ev, *plateau)
    return pd.DataFrame({
        _d("when", lang): ev["when"],
        _d("stated", lang): [_stated(r, lang) for _, r in ev.iterrows()],
        _d("label", lang): ev["label"],
        _d("annual", lang): [with_bounds(v, lo, hi, lang, 1, partial=True) for v, lo, hi in
                             zip(ev["value"], ev["low"], ev["high"], strict=True)],
        _d("relation", lang, lo=number(plateau[0], lang, 0), hi=number(plateau[1], lang, 0)): [
            i18n.label(RELATION, r, lang) if role == "total" else "–" for r, role in zip(rel, ev["role"], strict=True)],
        _d("assumption", lang): ev["assumption"],
        _d("source", lang): ev["source_id"],
    })


def display_plateau_excess(table: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """The plateau_excess table as 'value [low–high]' text with headers in `lang`."""
    def col(v, lo, hi, digits=1):
        return [with_bounds(a, b, c, lang, digits, partial=True)
                for a, b, c in zip(table[v], table[lo], table[hi], strict=True)]

    return pd.DataFrame({
        _d("year", lang): table["year"],
        _d("step", lang): [number(s, lang, 0) for s in table["plateau_step"]],
        _d("actual", lang): col("actual", "actual_low", "actual_high"),
        _d("baseline", lang): col("baseline", "baseline_low", "baseline_high", 0),
        _d("excess", lang): col("excess", "excess_low", "excess_high"),
        _d("p_score", lang): col("p_score", "p_score_low", "p_score_high"),
    })


CURVE_PARAMS = {
    "K": {"nb": "K (øvre nivå, millioner per år)", "en": "K (upper level, million per year)"},
    "r": {"nb": "r (vekstrate per år)", "en": "r (growth rate per year)"},
    "x0": {"nb": "x0 (vendepunkt, år)", "en": "x0 (inflection, year)"},
}


def display_curve_params(curve: AdoptionCurve, lang: str = "nb", alpha: float = 0.05) -> pd.DataFrame:
    """The adoption curve's parameters for reading, labelled as an illustration."""
    p = round(100 * (1 - alpha))
    head = {"nb": f"illustrasjon: estimat [midtre {p} % av kurvene]",
            "en": f"illustration: estimate [middle {p} % of refits]"}
    return pd.DataFrame({
        _d("what", lang): [i18n.label(CURVE_PARAMS, k, lang) for k in curve.params["parameter"]],
        i18n.pick(head, lang): [with_bounds(e, lo, hi, lang, 2, group=False, partial=True) for e, lo, hi in
                                zip(curve.params["estimate"], curve.params["lower"], curve.params["upper"],
                                    strict=True)],
    })


def display_beside(rows: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """The beside_drivers rows for reading."""
    return pd.DataFrame({
        _d("what", lang): rows["label"],
        _d("kind", lang): [i18n.label(KIND, k, lang) for k in rows["kind"]],
        _d("value", lang): [with_bounds(v, lo, hi, lang, 1, partial=True) for v, lo, hi in
                            zip(rows["value"], rows["low"], rows["high"], strict=True)],
    })


def _num(x: float, lang: str, digits: int = 1) -> str:
    """A number in the sentences below: one decimal unless said."""
    return number(x, lang, digits)


def excess_sentence(row: pd.Series, lang: str = "nb") -> str:
    """One sentence on a plateau_excess row: above, below or consistent with the plateau, from its bounds."""
    y, e, lo, hi = int(row["year"]), row["excess"], row["excess_low"], row["excess_high"]
    p, plo, phi = row["p_score"], row["p_score_low"], row["p_score_high"]
    span, pspan = interval(lo, hi, lang, 1), interval(plo, phi, lang, 1)
    if lo > 0:
        texts = {"nb": f"**{y} ligger {_num(e, lang)} millioner meldinger over platået** (intervall {span}), en "
                       f"P-skår på {_num(p, lang)} % ({pspan} %).",
                 "en": f"**{y} lies {_num(e, lang)} million messages above the plateau** (interval {span}), a "
                       f"P-score of {_num(p, lang)} % ({pspan} %)."}
    elif hi < 0:
        texts = {"nb": f"**{y} ligger {_num(-e, lang)} millioner meldinger under platået** (differanse {span}).",
                 "en": f"**{y} lies {_num(-e, lang)} million messages below the plateau** (difference {span})."}
    else:
        texts = {"nb": f"**{y} er forenlig med platået:** differansen kan være alt fra {span} millioner.",
                 "en": f"**{y} is consistent with the plateau:** the difference can be anything from {span} "
                       "million."}
    return i18n.pick(texts, lang)


def rest_sentence(rows: pd.Series | pd.DataFrame, lang: str = "nb") -> str:
    """One sentence on a beside_drivers table: the drivers' change, its share of the excess and whether the
    total without them lies inside the plateau (rest interval containing 0) or not."""
    q = rows.set_index("quantity")
    d, s, r = q.loc["drivers"], q.loc["share"], q.loc["rest"]
    dspan, sspan = interval(d["low"], d["high"], lang, 1), interval(s["low"], s["high"], lang, 0)
    head = {"nb": f"Driverne økte med {_num(d['value'], lang)} millioner ({dspan}), omtrent "
                  f"{_num(s['value'], lang, 0)} % av overskuddet over platået ({sspan} %).",
            "en": f"The drivers grew by {_num(d['value'], lang)} million ({dspan}), about "
                  f"{_num(s['value'], lang, 0)} % of the excess over the plateau ({sspan} %)."}
    span = interval(r["low"], r["high"], lang, 1)
    if r["low"] <= 0 <= r["high"]:
        tail = {"nb": f" Uten dem er 2021 forenlig med platået (resten er {span} millioner).",
                "en": f" Without them 2021 is consistent with the plateau (the rest is {span} million)."}
    elif r["low"] > 0:
        tail = {"nb": f" Også uten dem ligger 2021 over platået (resten er {span} millioner).",
                "en": f" Even without them 2021 lies above the plateau (the rest is {span} million)."}
    else:
        tail = {"nb": f" Uten dem ligger 2021 under platået (resten er {span} millioner).",
                "en": f" Without them 2021 lies below the plateau (the rest is {span} million)."}
    return i18n.pick(head, lang) + i18n.pick(tail, lang)
