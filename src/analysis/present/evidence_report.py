"""Tables, sentences and figures for readers of the published evidence on total volume (notebook 03, Part B),
in nb or en.

The numbers and codes come from :mod:`analysis.evidence`; every word comes from the message catalogue
(``messages/<lang>/evidence.toml``), numbers are formatted by :mod:`analysis.present.formatting`. Converted
and modelled values are labelled as such in every table, sentence and figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.evidence import AdoptionCurve, relation_to_plateau
from analysis.present import catalogue, findings
from analysis.present.decompose_report import driver_names
from analysis.present.findings import KeyFindings
from analysis.present.formatting import interval, join_words, number, significant, with_bounds
from analysis.present.plotting import wrap
from analysis.results import Note


def _t(lang: str, msgid: str, **values: object) -> str:
    return catalogue.text(lang, f"evidence.{msgid}", **values)


def _share(x: float, lang: str) -> str:
    """A factor as Python writes it at its shortest ("0.1", "12"), with the decimal mark of `lang`."""
    return significant(x, lang, 6, typographic=False)


def _factors(n: Note, lang: str) -> dict[str, str]:
    v = n.values
    if n.code == "monthly":
        return {"months": _share(v["months"], lang), "tolerance": _share(100 * v["tolerance"], lang)}
    if n.code == "weekday":
        return {"weekdays": _share(v["weekdays"], lang), "rest": _share(v["rest"], lang),
                "share_low": _share(v["share_low"], lang), "share_high": _share(v["share_high"], lang)}
    return {}


def assumption_text(n: Note | None, lang: str = "nb", short: bool = False) -> str:
    """The assumption behind a converted value (a Note from annual_equivalents) in `lang`; "" for None."""
    if n is None or (isinstance(n, float) and np.isnan(n)):
        return ""
    return _t(lang, f"{'assumption_short' if short else 'assumption'}.{n.code}", **_factors(n, lang))


def when_text(row: pd.Series, lang: str = "nb") -> str:
    """When an evidence row belongs: its period, with what is uncertain about it."""
    code = row["when_note"]
    return _t(lang, f"when.{code}", period=row["when"]) if code else str(row["when"])


def basis_label(row: pd.Series, lang: str = "nb") -> str:
    """An evidence row's basis for reading: published (with its wording), converted (with its assumption) or
    a part of the total."""
    if row["role"] == "part":
        return _t(lang, "label.part")
    if row["basis"] == "converted":
        return _t(lang, "label.converted", assumption=assumption_text(row["assumption"], lang, short=True))
    return _t(lang, "label.published", wording=row["wording"])


def evidence_export(evidence: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """The annual_equivalents table for the CSV export: `when`, `assumption` and `label` as text in `lang`,
    the numbers and codes untouched."""
    out = evidence.copy()
    out["when"] = [when_text(r, lang) for _, r in evidence.iterrows()]
    out["assumption"] = [assumption_text(a, lang) for a in evidence["assumption"]]
    out["label"] = [basis_label(r, lang) for _, r in evidence.iterrows()]
    return out.drop(columns=["when_note", "wording"])


# ---------------------------------------------------------------- figures

def plot_evidence(evidence: pd.DataFrame, plateau: tuple[float, float], curve: AdoptionCurve | None = None,
                  lang: str = "nb") -> plt.Figure:
    """Published totals (filled), converted values (hollow, dashed whiskers), the undated plateau as a band
    across the whole axis, and optionally the illustrative curve; every kind labelled."""
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.axhspan(plateau[0], plateau[1], facecolor="0.8", alpha=0.6, hatch="..", edgecolor="0.5", linewidth=0,
               label=_t(lang, "figure.plateau"))
    if curve is not None:
        c = curve.curve
        ax.fill_between(c["x"], c["lower"], c["upper"], color="C2", alpha=0.15, linewidth=0,
                        label=_t(lang, "figure.band"))
        ax.plot(c["x"], c["mean"], color="C2", linestyle=":", linewidth=2, label=_t(lang, "figure.curve"))
    dated = evidence[(evidence["role"] == "total") & evidence["x"].notna()]
    for basis, style in (("published", {"fmt": "s", "color": "black", "mfc": "black", "ls": "-"}),
                         ("converted", {"fmt": "o", "color": "C0", "mfc": "white", "ls": "--"})):
        sub = dated[dated["basis"] == basis]
        if sub.empty:
            continue
        err = np.vstack([sub["value"] - sub["low"], sub["high"] - sub["value"]])
        bars = ax.errorbar(sub["x"], sub["value"], yerr=err, fmt=style["fmt"], color=style["color"],
                           mfc=style["mfc"], mec=style["color"], ms=8, capsize=5, elinewidth=1.5,
                           label=_t(lang, f"figure.{basis}"))
        bars[-1][0].set_linestyle(style["ls"])
    ax.set_ylim(0, max(320, float(dated["high"].max()) * 1.08))
    ax.set_ylabel(_t(lang, "figure.y"))
    ax.set_xlabel(_t(lang, "figure.x"))
    ax.set_title(_t(lang, "figure.title"))
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def plot_intervals(rows: pd.DataFrame, lang: str = "nb", title: str | None = None, end: object = 2021) -> plt.Figure:
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
    ax.set_xlabel(_t(lang, "figure.excess_x"))
    handles = [
        plt.Line2D([], [], marker="s", color="black", mfc="white", mew=1.5, linestyle="none", ms=7,
                   label=_t(lang, "figure.derived")),
        plt.Line2D([], [], marker="o", color="C1", mfc="white", mew=1.5, linestyle="none", ms=7,
                   label=_t(lang, "figure.modelled")),
    ]
    ax.legend(handles=handles, frameon=False, fontsize="small", loc="lower right")
    ax.set_title(title or _t(lang, "figure.excess_title", end=end))
    ax.text(0.0, -0.02, _t(lang, "figure.numbers"),
            transform=fig.transFigure, fontsize=8, color="dimgray", va="bottom")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- tables for reading

def _d(key: str, lang: str, **kw: object) -> str:
    return _t(lang, f"head.{key}", **kw)


def _indexed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(frame.columns[0])


def _stated(row: pd.Series, lang: str) -> str:
    q = "" if row["qualifier"] == "exact" else catalogue.label(lang, "qualifier", row["qualifier"]) + " "
    digits = 0 if float(row["stated_value"]).is_integer() else 1
    unit = row["stated_unit"]
    unit = _t(lang, f"stated_unit.{unit}") if catalogue.has(lang, f"evidence.stated_unit.{unit}") else unit
    return f"{q}{number(row['stated_value'], lang, digits)} {unit}"


def evidence_table(evidence: pd.DataFrame, context: pd.DataFrame, published: pd.DataFrame,
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
    return _indexed(pd.DataFrame({
        _d("when", lang): [when_text(r, lang) for _, r in ev.iterrows()],
        _d("stated", lang): [_stated(r, lang) for _, r in ev.iterrows()],
        _d("label", lang): [basis_label(r, lang) for _, r in ev.iterrows()],
        _d("annual", lang): [with_bounds(v, lo, hi, lang, 1, partial=True) for v, lo, hi in
                             zip(ev["value"], ev["low"], ev["high"], strict=True)],
        _d("relation", lang, low=number(plateau[0], lang, 0), high=number(plateau[1], lang, 0)): [
            _t(lang, f"relation.{r}") if role == "total" else "–" for r, role in zip(rel, ev["role"], strict=True)],
        _d("assumption", lang): [assumption_text(a, lang) for a in ev["assumption"]],
        _d("source", lang): ev["source_id"].to_numpy(),
    }))


def plateau_excess_table(table: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """The plateau_excess table as 'value [low–high]' text with headers in `lang`."""
    def col(v: str, lo: str, hi: str, digits: int = 1) -> list[str]:
        return [with_bounds(a, b, c, lang, digits, partial=True)
                for a, b, c in zip(table[v], table[lo], table[hi], strict=True)]

    return _indexed(pd.DataFrame({
        _d("year", lang): table["year"],
        _d("step", lang): [number(s, lang, 0) for s in table["plateau_step"]],
        _d("actual", lang): col("actual", "actual_low", "actual_high"),
        _d("baseline", lang): col("baseline", "baseline_low", "baseline_high", 0),
        _d("excess", lang): col("excess", "excess_low", "excess_high"),
        _d("p_score", lang): col("p_score", "p_score_low", "p_score_high"),
    }))


def curve_params_table(curve: AdoptionCurve, lang: str = "nb", alpha: float = 0.05) -> pd.DataFrame:
    """The adoption curve's parameters for reading, labelled as an illustration with a sensitivity range."""
    return _indexed(pd.DataFrame({
        _d("what", lang): [_t(lang, f"curve_param.{k}") for k in curve.params["parameter"]],
        _d("curve", lang, p=round(100 * (1 - alpha))): [
            with_bounds(e, lo, hi, lang, 2, group=False, partial=True) for e, lo, hi in
            zip(curve.params["estimate"], curve.params["lower"], curve.params["upper"], strict=True)],
    }))


def beside_labels(rows: pd.DataFrame, lang: str = "nb") -> list[str]:
    """The reader's label of each beside_drivers row (the drivers by name, not by code)."""
    out = []
    for _, r in rows.iterrows():
        names = driver_names([d.strip() for d in r["drivers"].split(",")], lang)
        out.append(_t(lang, f"beside.{r['quantity']}", start=r["start"], end=r["end"], names=names))
    return out


def beside_export(rows: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """The beside_drivers rows for the CSV export: quantity, kind, value, low, high, unit, label, drivers."""
    out = rows.assign(label=beside_labels(rows, lang))
    return out[["quantity", "kind", "value", "low", "high", "unit", "label", "drivers"]]


def beside_table(rows: pd.DataFrame, lang: str = "nb") -> pd.DataFrame:
    """The beside_drivers rows of one set of drivers for reading."""
    return _indexed(pd.DataFrame({
        _d("what", lang): beside_labels(rows, lang),
        _d("kind", lang): [_t(lang, f"kind.{k}") for k in rows["kind"]],
        _d("value", lang): [with_bounds(v, lo, hi, lang, 1, partial=True) for v, lo, hi in
                            zip(rows["value"], rows["low"], rows["high"], strict=True)],
    }))


def beside_report(rows: pd.DataFrame, lang: str = "nb") -> list:
    """What the page shows per set of drivers (beside_driver_sets): a sentence, then the table."""
    from IPython.display import Markdown

    out: list = []
    for _, one in rows.groupby("drivers", sort=False):
        out += [Markdown(rest_sentence(one, lang)), beside_table(one, lang)]
    return out


def plot_beside(rows: pd.DataFrame, lang: str = "nb") -> plt.Figure:
    """The excess (once) and each set's drivers' change and rest as intervals, each row labelled."""
    sets = [one for _, one in rows.groupby("drivers", sort=False)]
    shown = pd.concat([sets[0][sets[0]["quantity"] == "excess"]]
                      + [b[b["quantity"].isin(["drivers", "rest"])] for b in sets], ignore_index=True)
    return plot_intervals(shown.assign(label=beside_labels(shown, lang)), lang, end=shown["end"].iloc[0])


# ---------------------------------------------------------------- sentences (Markdown)

def _num(x: float, lang: str, digits: int = 1) -> str:
    """A number in the sentences below: one decimal unless said."""
    return number(x, lang, digits)


def assumptions_text(evidence: pd.DataFrame, lang: str = "nb") -> str:
    """Markdown: the assumptions behind the converted values, with the factors annual_equivalents used."""
    ev = evidence.set_index("evidence_id")
    monthly = _factors(ev.loc["cw_monthly_2012", "assumption"], lang)
    weekday = _factors(ev.loc["nhn_weekday_2014", "assumption"], lang)
    return _t(lang, "sentences.assumptions", **monthly, **weekday, year=ev.loc["nhn_weekday_2014", "when"])


def evidence_figure_text(plateau: tuple[float, float, float], lang: str = "nb") -> str:
    """Markdown: how the evidence figure reads, with the plateau's interval under the convention."""
    return _t(lang, "sentences.evidence_figure", span=interval(plateau[1], plateau[2], lang, 0))


def curve_text(curve: AdoptionCurve, alpha: float = 0.05, lang: str = "nb") -> str:
    """Markdown: what the illustrative adoption curve is fitted to, and what it can and cannot show."""
    x0 = int(curve.params.set_index("parameter").loc["x0", "estimate"])
    last = int(curve.points["x"].max())
    return _t(lang, "sentences.curve", before=last + 1, p=round(100 * (1 - alpha)), n_ok=curve.n_ok,
              seed=curve.seed, n_points=len(curve.points), x0=x0, x1=x0 + 1, last=last, n_boot=curve.n_boot,
              n_failed=curve.n_failed)


def excess_sentence(row: pd.Series, lang: str = "nb") -> str:
    """One sentence on a plateau_excess row: above, below or consistent with the plateau, from its bounds."""
    y, e, lo, hi = int(row["year"]), row["excess"], row["excess_low"], row["excess_high"]
    span = interval(lo, hi, lang, 1)
    if lo > 0:
        return _t(lang, "sentences.excess_above", year=y, excess=_num(e, lang), span=span,
                  p_score=_num(row["p_score"], lang), p_span=interval(row["p_score_low"], row["p_score_high"], lang, 1))
    if hi < 0:
        return _t(lang, "sentences.excess_below", year=y, deficit=_num(-e, lang), span=span)
    return _t(lang, "sentences.excess_consistent", year=y, span=span)


def excess_sentences(table: pd.DataFrame, lang: str = "nb") -> str:
    """Markdown: excess_sentence for each year of the first rounding step in a plateau_excess_steps table."""
    first = table[table["plateau_step"] == table["plateau_step"].iloc[0]]
    return "\n\n".join(excess_sentence(r, lang) for _, r in first.iterrows())


def rest_sentence(rows: pd.Series | pd.DataFrame, lang: str = "nb") -> str:
    """One sentence on a beside_drivers table: the drivers' change, its share of the excess and whether the
    total without them lies inside the plateau (rest interval containing 0) or not."""
    q = rows.set_index("quantity")
    d, s, r = q.loc["drivers"], q.loc["share"], q.loc["rest"]
    names = driver_names([x.strip() for x in d["drivers"].split(",")], lang)
    head = _t(lang, "sentences.drivers", names=names, change=_num(d["value"], lang),
              span=interval(d["low"], d["high"], lang, 1), share=_num(s["value"], lang, 0),
              share_span=interval(s["low"], s["high"], lang, 0))
    key = "rest_inside" if r["low"] <= 0 <= r["high"] else "rest_above" if r["low"] > 0 else "rest_below"
    return head + _t(lang, f"sentences.{key}", year=d["end"], span=interval(r["low"], r["high"], lang, 1))


# ---------------------------------------------------------------- key findings

def _kf(lang: str, key: str, /, **values: object) -> str:
    """Message `findings.evidence.<key>` in `lang`."""
    return catalogue.text(lang, f"findings.evidence.{key}", **values)


def key_findings(excess: pd.DataFrame, beside: pd.DataFrame, lang: str = "nb") -> KeyFindings:
    """The page's key findings on the published figures (analysis.present.findings): the last year against the
    earlier flat level, why only a flat level, how much of the excess the first driver set covers, and the
    excess under the coarsest reading of the level (a plateau_excess_steps and a beside_driver_sets table)."""
    catalogue.check_lang(lang)
    first = excess[excess["plateau_step"] == excess["plateau_step"].iloc[0]]
    year = int(first["year"].max())
    r = first[first["year"] == year].iloc[0]
    plateau = findings.hedged(r["baseline"], "about", lang)
    lo, hi = r["excess_low"], r["excess_high"]
    if lo > 0 or hi < 0:
        size = findings.between(*sorted((abs(lo), abs(hi))), lang, value=abs(r["excess"]))
        out = [_kf(lang, "excess_above" if lo > 0 else "excess_below", year=year, range=size, plateau=plateau)]
    else:
        b_lo, b_hi = findings.ends(r["baseline_low"], r["baseline_high"], lang)
        out = [_kf(lang, "excess_within", year=year, plateau=plateau, low=b_lo, high=b_hi)]
    out.append(_kf(lang, "baseline_only", first=int(excess["year"].min())))
    if len(beside):
        rows = beside[beside["drivers"] == beside["drivers"].iloc[0]].set_index("quantity")
        d, s = rows.loc["drivers"], rows.loc["share"]
        names = join_words([findings.driver_name(x.strip(), lang, short=True) for x in d["drivers"].split(",")],
                           lang)
        key = "drivers_most" if s["low"] > 50 else "drivers_part"
        out.append(_kf(lang, key, names=names, range=findings.between(d["low"], d["high"], lang, value=d["value"])))
    widest = excess[(excess["year"] == year) & (excess["plateau_step"] == excess["plateau_step"].max())]
    if excess["plateau_step"].nunique() > 1 and len(widest):
        w = widest.iloc[0]
        b_lo, b_hi = findings.ends(w["baseline_low"], w["baseline_high"], lang)
        values = {"plateau": plateau, "low": b_lo, "high": b_hi, "year": year}
        if w["excess_low"] > 0:
            out.append(_kf(lang, "coarse", range=findings.between(w["excess_low"], w["excess_high"], lang,
                                                                  value=w["excess"]), **values))
        else:
            out.append(_kf(lang, "coarse_within", **values))
    return findings.block(out, lang)
