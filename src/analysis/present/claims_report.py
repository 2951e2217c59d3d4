"""Tables, figures and sentences for readers of the claims check and reconciliation (notebook 01), in nb or en.

The numbers come from :mod:`analysis.claims`; this module only labels and formats them
(:mod:`analysis.present.formatting`) and draws them, and every word a reader reads comes from the message
catalogue (``messages/<lang>/claims.toml``, labels of codes from ``labels.toml``). Intervals show their
closedness: a round bracket marks an open end, a bound that no value the wording strictly allows reaches
("(31; 31,1)"), and bounds are rounded outwards. The tables here are for reading (headers and numbers in the
page's language); the notebook exports the frames of :mod:`analysis.claims` as CSV, with English column names
and decimal points, for reuse.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from pandas.io.formats.style import Styler

from analysis.claims import RELATION_JOIN, TOL, UNDATED, ClaimsCheck, unconstrained_levels
from analysis.data import is_published
from analysis.present import catalogue
from analysis.present import findings as kf  # claims_report.findings is the detailed summary
from analysis.present.catalogue import text
from analysis.present.findings import KeyFindings
from analysis.present.formatting import bracketed, decimal_marks, join_words, number, significant
from analysis.present.plotting import HATCHES, colors, wrap

PARAPHRASE_LANG = "en"  # the language of the data's `paraphrase` column: shown only on pages in that language
GP_TO_MUNICIPALITY = "plo[fastlege->kommune]"
UNEXPLAINED = "unexplained_change"


def _t(lang: str, key: str, /, **values: object) -> str:
    """Message `claims.<key>` of the catalogue in `lang` (for ids built from a code)."""
    return text(lang, f"claims.{key}", **values)


def styled(table: pd.DataFrame) -> Styler:
    """A reader's table for display: no row numbers, its text escaped for HTML."""
    return table.style.hide(axis="index").format(escape="html")


def flow_label(measure: str, sender: str, receiver: str, lang: str = "en") -> str:
    """Short label for a measure or a care-message flow, e.g. "PLO fastlege → kommune"."""
    if measure in ("unexplained", "other"):
        return _t(lang, f"label.{measure}")
    if measure == "plo" and (sender, receiver) != ("all", "all"):
        return text(lang, "claims.label.flow", sender=catalogue.label(lang, "party", sender),
                  receiver=catalogue.label(lang, "party", receiver))
    return catalogue.label(lang, "measure", measure)


def quantity_label(row: Mapping, lang: str = "en") -> str:
    """Label for one row of :func:`analysis.claims.reconcile` or :func:`analysis.claims.derived`, in `lang`."""
    base = flow_label(row["measure"], row["sender"], row["receiver"], lang)
    year = row.get("year")
    if row.get("from_year") is None or pd.isna(row.get("from_year")):
        undated = year in (None, UNDATED) or pd.isna(year)
        return text(lang, "claims.label.level", name=base, year=text(lang, "claims.label.no_year") if undated else year)
    span = f"{row['from_year']}–{year}"
    if row["measure"] == "unexplained":
        return text(lang, "claims.label.span_only", name=base, span=span)
    key = "growth_percent" if row["kind"] == "growth_percent" else "change"
    return _t(lang, f"label.{key}", name=base, span=span)


def unit_text(unit: str, lang: str) -> str:
    """Short unit for a table column: "%" for percent, "million" / "mill." for million messages."""
    msgid = f"claims.unit_short.{unit}"
    return text(lang, msgid) if catalogue.has(lang, msgid) else catalogue.label(lang, "unit", unit)


def _brackets(frame: pd.DataFrame, lang: str, prefix: str = "") -> list[str]:
    """`prefix`low/high with their closedness (`prefix`low_closed, ...) as bracketed intervals."""
    cols = [f"{prefix}low", f"{prefix}high", f"{prefix}low_closed", f"{prefix}high_closed"]
    return [bracketed(lo, hi, lang, bool(lc), bool(hc)) for lo, hi, lc, hc in
            zip(*(frame[c] for c in cols), strict=True)]


def hedged(value: float, qualifier: str, lang: str = "en", digits: int = 4) -> str:
    """A printed figure with its hedge word, as the page has it: "over 63", "rundt 5" / "about 5", "23,5"."""
    word = catalogue.label(lang, "qualifier", qualifier) if qualifier and qualifier != "exact" else ""
    return f"{word} {significant(value, lang, digits)}".strip()


# ---------------------------------------------------------------- the page's data line and notices


def data_line(data: pd.DataFrame, data_path: str, convention: str, lang: str = "en") -> str:
    """Markdown line naming the data (the published figures, or the file at `data_path`), the number of claims
    and the convention."""
    source = (text(lang, "claims.page.own_source", path=data_path) if data_path
              else text(lang, "claims.page.published_source"))
    return text(lang, "claims.page.data_line", source=source, n=len(data) if is_published(data) else 0,
              convention=convention)


def skipped(lang: str = "en") -> str:
    """Markdown: this section applies to the published figures only."""
    return text(lang, "claims.page.skipped")


def not_applicable(lang: str = "en") -> str:
    """Markdown: the claims analysis does not apply to a user's series (which has no statements)."""
    return text(lang, "claims.page.not_applicable")


def unconstrained_note(check: pd.DataFrame, lang: str = "en") -> str:
    """A sentence naming the level statements that no other statement constrains (the others imply only the
    structural limits, from 0 up), or "" when there are none."""
    free = unconstrained_levels(check)
    return text(lang, "claims.page.unconstrained", n=len(free), ids=", ".join(free)) if free else ""


def conflicts_note(result: ClaimsCheck, lang: str = "en") -> str:
    """Markdown naming the smallest conflicting sets of claims, or "" when the claims agree."""
    if result.consistent:
        return ""
    return text(lang, "claims.page.conflicts", sets="; ".join(", ".join(c) for c in result.conflicts))


def check_notes(result: ClaimsCheck, lang: str = "en") -> str:
    """What to say below the table of the check: unconstrained statements, then any conflicting sets."""
    return "\n\n".join(s for s in (unconstrained_note(result.table, lang), conflicts_note(result, lang)) if s)


def sensitivity_note(sens: pd.DataFrame, lang: str = "en") -> str:
    """Markdown: for each convention under which the statements contradict each other, a smallest conflicting
    set of an :func:`analysis.claims.sensitivity` result; or that they agree under every convention."""
    bad = sens[~sens["consistent"]].drop_duplicates("convention")
    if bad.empty:
        return text(lang, "claims.page.sensitivity_agree")
    return " ".join(text(lang, "claims.page.sensitivity_conflict", convention=c, claims=k)
                    for c, k in zip(bad["convention"], bad["conflict"], strict=True))


# ---------------------------------------------------------------- tables


def registry_table(reg: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`analysis.claims.registry` as a reader's table: id, wording, the relation (decimal marks of `lang`);
    the paraphrase only on pages in its language (:data:`PARAPHRASE_LANG`)."""
    catalogue.check_lang(lang)
    out = {text(lang, "claims.header.claim_id"): reg["claim_id"], text(lang, "claims.header.wording"): reg["wording"]}
    if lang == PARAPHRASE_LANG:
        out[text(lang, "claims.header.paraphrase")] = reg["paraphrase"]
    joint = text(lang, "claims.label.relation_and")
    out[text(lang, "claims.header.relation")] = [joint.join(decimal_marks(p, lang) for p in r.split(RELATION_JOIN))
                                 for r in reg["relation"]]
    return pd.DataFrame(out)


def structural_table(struct: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`analysis.claims.structural_constraints` as a reader's table: what each constraint says, in `lang`."""
    catalogue.check_lang(lang)
    names, relations = [], []
    for label, relation in zip(struct["label"], struct["relation"], strict=True):
        key, _, year = label.partition("@")
        known = catalogue.has(lang, f"claims.structural.{key}")
        names.append(_t(lang, f"structural.{key}", year=year) if known else label)
        own = catalogue.has(lang, f"claims.structural.{key}_relation")
        relations.append(_t(lang, f"structural.{key}_relation") if own else decimal_marks(relation, lang))
    return pd.DataFrame({text(lang, "claims.header.constraint"): names,
                         text(lang, "claims.header.relation_plain"): relations})


def claims_table(check: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The check as a reader's table: statement as printed, stated interval, implied, reconciled, ✓ or ✗."""
    catalogue.check_lang(lang)
    return pd.DataFrame({
        text(lang, "claims.header.claim_id"): check["claim_id"],
        text(lang, "claims.header.wording"): check["wording"],
        text(lang, "claims.header.unit"): [unit_text(u, lang) for u in check["unit"]],
        text(lang, "claims.header.stated"): _brackets(check, lang, "stated_"),
        text(lang, "claims.header.implied"): _brackets(check, lang, "implied_"),
        text(lang, "claims.header.reconciled"): _brackets(check, lang, "reconciled_"),
        text(lang, "claims.header.ok"): ["✓" if ok else "✗" for ok in check["consistent"]],
    })


def derived_table(der: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The recomputed figures as a reader's table: stated wording, printed arithmetic, reconciled bounds."""
    catalogue.check_lang(lang)
    return pd.DataFrame({
        text(lang, "claims.header.quantity"): [quantity_label(r, lang) for _, r in der.iterrows()],
        text(lang, "claims.header.on_page"): der["stated"].replace("", "–"),
        text(lang, "claims.header.from_printed"): [significant(v, lang, 4) for v in der["from_printed"]],
        text(lang, "claims.header.bounds"): _brackets(der, lang),
        text(lang, "claims.header.unit"): [unit_text(u, lang) for u in der["unit"]],
        text(lang, "claims.header.inside"): ["✓" if ok else "✗" for ok in der["printed_inside"]],
    })


def reconciled_table(rec: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`analysis.claims.reconcile` output as a reader's table: quantity label, reconciled bounds, unit."""
    catalogue.check_lang(lang)
    return pd.DataFrame({
        text(lang, "claims.header.quantity"): [quantity_label(r, lang) for _, r in rec.iterrows()],
        text(lang, "claims.header.bounds"): _brackets(rec, lang),
        text(lang, "claims.header.unit"): [unit_text(u, lang) for u in rec["unit"]],
    })


def sensitivity_table(sens: pd.DataFrame, rec: pd.DataFrame | None = None, lang: str = "en") -> pd.DataFrame:
    """:func:`analysis.claims.sensitivity` output as one row per quantity and one column of bounds per convention.

    `rec` (an :func:`analysis.claims.reconcile` result) supplies readable labels; without it the quantity names
    are shown.
    """
    catalogue.check_lang(lang)
    labels = {} if rec is None else {q: quantity_label(r, lang) for q, r in rec.set_index("quantity").iterrows()}
    shown = sens.assign(
        label=[labels.get(q, q) for q in sens["quantity"]],
        bounds=[b if ok else ("✗ " + c) for b, ok, c in
                zip(_brackets(sens, lang), sens["consistent"], sens["conflict"], strict=True)],
    )
    table = shown.pivot(index="label", columns="convention", values="bounds")
    order = list(dict.fromkeys(shown["label"]))
    table = table.reindex(index=order, columns=list(dict.fromkeys(sens["convention"])))
    table.index.name = text(lang, "claims.header.quantity")
    table.columns.name = text(lang, "claims.header.convention")
    return table.reset_index()


# ---------------------------------------------------------------- figures


def plot_stack(stack: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """Figure 1: the yearly totals stacked from the rest and the three pandemic-related areas; each segment is
    labelled with its printed figure and hedge word ("over 63") and its reconciled interval with closedness."""
    parts = ["rest", "frikort_egenandel", "svarrapporter", "sysvak"]
    pal = colors(len(parts))
    years = list(dict.fromkeys(stack["year"]))
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for j, y in enumerate(years):
        sub = stack[stack["year"] == y].set_index("part")
        bottom = 0.0
        for k, p in enumerate(parts):
            v = sub.loc[p, "value"]
            name = text(lang, "claims.label.rest") if p == "rest" else catalogue.label(lang, "measure", p)
            label = name if j == 0 else None
            ax.bar(j, v, bottom=bottom, width=0.5, color=pal[k], hatch=HATCHES[k], edgecolor="black",
                   linewidth=0.5, label=label)
            r = sub.loc[p]
            shown = significant(v, lang, 4) if r["derived"] else hedged(v, r["qualifier"], lang)
            ax.annotate(f"{shown}  {bracketed(r['low'], r['high'], lang, r['low_closed'], r['high_closed'])}",
                        (j + 0.27, bottom + v / 2), va="center", fontsize=8.5)
            bottom += v
        tot = sub.loc["total"]
        ax.errorbar(j, tot["value"], yerr=[[tot["value"] - tot["low"]], [tot["high"] - tot["value"]]],
                    fmt="none", ecolor="black", elinewidth=1.5, capsize=8)
        total = text(lang, "claims.figure.total", value=hedged(tot["value"], tot["qualifier"], lang),
                   interval=bracketed(tot["low"], tot["high"], lang, tot["low_closed"], tot["high_closed"]))
        ax.annotate(total, (j, tot["high"] + 6), ha="center", fontsize=9, fontweight="bold")
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.grid(axis="x", visible=False)
    ax.set_xlim(-0.5, len(years) - 0.5 + 0.55)
    ax.set_ylim(0, stack["high"].max() * 1.12)
    ax.set_ylabel(text(lang, "claims.figure.mill_year_axis"))
    ax.set_title(text(lang, "claims.figure.stack_title"))
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], frameon=False, loc="upper left", fontsize=8.5)
    fig.text(0.01, 0.01, text(lang, "claims.figure.stack_note"), fontsize=8, style="italic")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_flows(flows: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """Figure 2: care messages between GP, municipality and hospital trusts; below, the intervals around each
    printed figure (stated and reconciled) on a scale where they are visible."""
    keys = list(dict.fromkeys(zip(flows["sender"], flows["receiver"], strict=True)))
    years = sorted(flows["year"].unique())
    pal = colors(len(years))
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(9.5, 7.6), sharex=True, gridspec_kw={"height_ratios": [2, 1.3]})
    width = 0.8 / len(years)
    for j, y in enumerate(years):
        sub = flows[flows["year"] == y].set_index(["sender", "receiver"]).reindex(keys)
        pos = np.arange(len(keys)) - 0.4 + width * (j + 0.5)
        ax.bar(pos, sub["value"], width=width * 0.9, color=pal[j], hatch=HATCHES[j], edgecolor="black",
               linewidth=0.5, label=str(y))
        for p, (_, r) in zip(pos, sub.iterrows(), strict=True):
            ax.errorbar(p, (r["low"] + r["high"]) / 2, yerr=(r["high"] - r["low"]) / 2, fmt="none",
                        ecolor="black", elinewidth=1.4, capsize=5, zorder=4)
            ax.annotate(bracketed(r["low"], r["high"], lang, r["low_closed"], r["high_closed"]),
                        (p, r["high"] + 0.08), ha="center", fontsize=7.5, rotation=90, va="bottom")
            # lower panel: thousand messages relative to the printed figure
            rel = [1000 * (r[k] - r["value"]) for k in ("stated_low", "stated_high", "low", "high")]
            bx.plot([p, p], rel[:2], color="0.6", lw=9, solid_capstyle="butt", zorder=2)
            bx.errorbar(p, (rel[2] + rel[3]) / 2, yerr=(rel[3] - rel[2]) / 2, fmt="none", ecolor="black",
                        elinewidth=1.6, capsize=5, zorder=4)
            bx.scatter([p], [0], marker="D", s=22, color=pal[j], edgecolor="black", zorder=5)
    bx.axhline(0, color="black", lw=0.6)
    ticks = [text(lang, "claims.label.flow_short", sender=catalogue.label(lang, "party", s),
                receiver=catalogue.label(lang, "party", r)) for s, r in keys]
    bx.set_xticks(np.arange(len(keys)), [wrap(t, 22) for t in ticks])
    bx.set_ylabel(wrap(text(lang, "claims.figure.flows_lower_axis"), 24), fontsize=9)
    ax.set_ylim(0, flows["high"].max() * 1.45)
    ax.set_ylabel(text(lang, "claims.figure.mill_year_axis"))
    for axis in (ax, bx):
        axis.grid(axis="x", visible=False)
    ax.set_title(text(lang, "claims.figure.flows_title"))
    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="0.6", lw=9), Line2D([], [], color="black", lw=1.6, marker="_", markersize=10)]
    labels += [text(lang, "claims.figure.flows_stated"), text(lang, "claims.figure.flows_reconciled")]
    ax.legend(handles, labels, frameon=False, loc="upper right", fontsize=8.5)
    fig.text(0.01, 0.005, text(lang, "claims.figure.flows_note"), fontsize=8, style="italic", wrap=True)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_changes(der: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """Figure 3: each change between two years, the stated (or printed-arithmetic) value with reconciled bounds."""
    ch = der[der["kind"].isin(["change", "residual"])].copy()
    ch["value"] = ch["stated_value"].fillna(ch["from_printed"])
    ch["is_derived"] = ch["stated_value"].isna()
    ch["label"] = [wrap(flow_label(m, s, r, lang), 30) for m, s, r in
                   zip(ch["measure"], ch["sender"], ch["receiver"], strict=True)]
    start, end = ch["from_year"].min(), ch["year"].max()
    small = ch["measure"] == "plo"
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), gridspec_kw={"width_ratios": [1.25, 1]})
    pal = colors(2)
    for ax, sub in zip(axes, (ch[~small], ch[small]), strict=True):
        sub = sub.iloc[::-1]
        pos = np.arange(len(sub))
        for p, (_, r) in zip(pos, sub.iterrows(), strict=True):
            ax.barh(p, r["value"], color=pal[1] if r["is_derived"] else pal[0], hatch="//" if r["is_derived"] else "",
                    edgecolor="black", linewidth=0.5, height=0.6)
            ax.errorbar(r["value"] if r["low"] <= r["value"] <= r["high"] else (r["low"] + r["high"]) / 2, p,
                        xerr=[[max(r["value"] - r["low"], 0) if r["low"] <= r["value"] <= r["high"]
                               else (r["high"] - r["low"]) / 2],
                              [max(r["high"] - r["value"], 0) if r["low"] <= r["value"] <= r["high"]
                               else (r["high"] - r["low"]) / 2]],
                        fmt="none", ecolor="black", elinewidth=1.4, capsize=4)
            inside = r["printed_inside"] if r["is_derived"] else r["low"] - TOL <= r["value"] <= r["high"] + TOL
            outside = "" if inside else "\n " + text(lang, "claims.figure.changes_outside")
            ax.annotate(f" {bracketed(r['low'], r['high'], lang, r['low_closed'], r['high_closed'])}{outside}",
                        (max(r["value"], r["high"]), p), va="center", fontsize=8)
        ax.set_yticks(pos, sub["label"])
        ax.grid(axis="y", visible=False)
        ax.set_xlim(min(0, sub["low"].min()), max(sub["high"].max(), sub["value"].max()) * 1.6)
        ax.set_xlabel(text(lang, "claims.figure.change_axis", start=start, end=end))
    axes[1].set_title(catalogue.label(lang, "measure", "plo"), fontsize=10)
    fig.suptitle(text(lang, "claims.figure.changes_title", start=start, end=end), fontweight="bold")
    handles = [Patch(facecolor=pal[0], edgecolor="black", label=text(lang, "claims.figure.changes_stated")),
               Patch(facecolor=pal[1], edgecolor="black", hatch="//",
                     label=text(lang, "claims.figure.changes_derived")),
               Line2D([], [], color="black", lw=1.4, marker="|", markersize=8,
                      label=text(lang, "claims.figure.changes_bounds"))]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=8.5)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    return fig


# ---------------------------------------------------------------- sentences


def _arithmetic(r: pd.Series, lang: str, agrees: bool) -> str:
    """ "284 − 193 = 91" for a stated change (with " ≠ stated" when the stated value differs)."""
    def num(v: float) -> str:
        return significant(v, lang, 4)
    sums = f"{num(r['printed_end'])} − {num(r['printed_start'])} = {num(r['from_printed'])}"
    return sums if agrees else f"{sums} ≠ {num(r['stated_value'])}"


def _stated_growth(check: pd.DataFrame, wording: str, lang: str) -> str:
    """The growth statement with `wording`, as the page has it ("over 82"); "" when no claim has it."""
    rows = check[(check["kind"] == "growth_percent") & (check["wording"] == wording)]
    return hedged(rows["value"].iloc[0], rows["qualifier"].iloc[0], lang) if len(rows) else ""


def findings(check: pd.DataFrame, der: pd.DataFrame, lang: str = "en") -> str:
    """Generated markdown bullets with the key numbers of the check and the reconciliation."""
    catalogue.check_lang(lang)
    d = der.set_index("quantity")
    n, ok = len(check), int(check["consistent"].sum())

    def iv(q: str) -> str:
        return bracketed(d.loc[q, "low"], d.loc[q, "high"], lang, d.loc[q, "low_closed"], d.loc[q, "high_closed"])

    lines = []
    if ok == n:
        lines.append(text(lang, "claims.findings.all_agree", n=n))
    else:
        lines.append(text(lang, "claims.findings.some_disagree", bad=n - ok, n=n,
                        ids=", ".join(check.loc[~check["consistent"], "claim_id"])))
    stated_changes = d[(d["kind"] == "change") & d["stated_value"].notna()]
    if len(stated_changes):
        agree = (stated_changes["from_printed"] - stated_changes["stated_value"]).abs() < 1e-9
        sums = ", ".join(_arithmetic(r, lang, a) for (_, r), a in zip(stated_changes.iterrows(), agree, strict=True))
        key = "changes_equal" if agree.all() else "changes_differ"
        lines.append(_t(lang, f"findings.{key}", sums=sums))
    tight = check[(check["reconciled_high"] - check["reconciled_low"])
                  < (check["stated_high"] - check["stated_low"]) - 1e-6]
    if len(tight):
        recon = dict(zip(tight["claim_id"], _brackets(tight, lang, "reconciled_"), strict=True))
        items = ", ".join(f"{text(lang, 'claims.label.quoted', text=r['wording'])} ({r['claim_id']}) → "
                          f"{recon[r['claim_id']]}" for _, r in tight.iterrows())
        lines.append(text(lang, "claims.findings.tight", items=items))
    tg = "growth_percent:total[all->all]@2020-2021"
    if tg in d.index:
        lines.append(text(lang, "claims.findings.total_growth", interval=iv(tg),
                        printed=significant(d.loc[tg, "from_printed"], lang, 3)))
    q, g = f"change:{GP_TO_MUNICIPALITY}@2020-2021", f"growth_percent:{GP_TO_MUNICIPALITY}@2020-2021"
    if q in d.index and g in d.index and not d.loc[q, "printed_inside"]:
        lines.append(text(lang, "claims.findings.growth_pins", growth=_stated_growth(check, d.loc[g, "stated"], lang),
                        interval=iv(q), printed_change=significant(d.loc[q, "from_printed"], lang, 2),
                        printed_growth=significant(d.loc[g, "from_printed"], lang, 3)))
    u, tc = f"{UNEXPLAINED}@2020-2021", "change:total[all->all]@2020-2021"
    if u in d.index:
        total = significant(d.loc[tc, "stated_value"], lang, 3) if tc in d.index else "?"
        lines.append(text(lang, "claims.findings.unexplained", total=total, interval=iv(u)))
    return "\n".join(f"- {line}" for line in lines)


def _statement(data: pd.DataFrame, measure: str, kind: str, year: object = None, sender: str = "all",
               receiver: str = "all") -> pd.Series | None:
    """The row of `data` stating `kind` for one measure/flow (and year, for a level), or None."""
    rows = data[(data["measure"] == measure) & (data["kind"] == kind) & (data["sender"] == sender)
                & (data["receiver"] == receiver)]
    if kind == "level":
        rows = rows[rows["year"].isna()] if year is None else rows[rows["year"] == year]
    return rows.iloc[0] if len(rows) else None


def page_statements(data: pd.DataFrame, lang: str = "en") -> str:
    """What the published figures in `data` say, as one markdown paragraph built from their rows: each figure with
    its hedge word ("rundt 5 → over 63"), levels in million messages."""
    catalogue.check_lang(lang)
    years = sorted(int(y) for y in data.loc[(data["kind"] == "level") & data["year"].notna(), "year"].unique())
    if len(years) < 2:
        return ""
    y0, y1 = years[0], years[-1]
    mill = text(lang, "claims.says.million")

    def h(row: pd.Series | None) -> str:
        return "?" if row is None else hedged(row["value"], row["qualifier"], lang)

    def span(measure: str, sender: str = "all", receiver: str = "all") -> str | None:
        a, b = (_statement(data, measure, "level", y, sender, receiver) for y in (y0, y1))
        if a is None or b is None:
            return None
        change = _statement(data, measure, "change", None, sender, receiver)
        if change is None:
            return text(lang, "claims.says.span", start=h(a), end=h(b), million=mill)
        return text(lang, "claims.says.span_change", start=h(a), end=h(b), million=mill, change=h(change))

    parts = []
    total = span("total")
    if total:
        plateau = _statement(data, "total", "level")
        if plateau is None:
            parts.append(text(lang, "claims.says.total", start=y0, end=y1, levels=total))
        else:
            parts.append(text(lang, "claims.says.total_plateau", start=y0, end=y1, levels=total, plateau=h(plateau)))
    areas = [text(lang, "claims.says.area", name=catalogue.label(lang, "measure", m), levels=span(m))
             for m in ("sysvak", "svarrapporter", "frikort_egenandel") if span(m)]
    if areas:
        parts.append(text(lang, "claims.says.areas", areas="; ".join(areas)))
    for _, g in data[data["kind"] == "growth_percent"].iterrows():
        parts.append(text(lang, "claims.says.growth", flow=flow_label(g["measure"], g["sender"], g["receiver"], lang),
                        growth=h(g), levels=span(g["measure"], g["sender"], g["receiver"])))
    return " ".join(parts)


def closing_notes(data: pd.DataFrame, der: pd.DataFrame, lang: str = "en") -> str:
    """The closing section as markdown bullets: what the figures say (from `data`), what holds, how much depends
    on the reading, and what cannot be reproduced; the stated growth of GP -> municipality messages only when
    the printed arithmetic of that flow falls outside its reconciled bounds (as it does on the published page)."""
    catalogue.check_lang(lang)
    d = der.set_index("quantity")
    q, g = f"change:{GP_TO_MUNICIPALITY}@2020-2021", f"growth_percent:{GP_TO_MUNICIPALITY}@2020-2021"
    says = page_statements(data, lang)
    lines = [text(lang, "claims.closing.says", says=says)] if says else []
    holds = text(lang, "claims.closing.holds")
    if q in d.index and g in d.index and not d.loc[q, "printed_inside"]:
        row = data[(data["kind"] == "growth_percent") & (data["wording"] == d.loc[g, "stated"])]
        growth = hedged(row["value"].iloc[0], row["qualifier"].iloc[0], lang) if len(row) else "?"
        holds += " " + text(lang, "claims.closing.corner", growth=growth)
    lines += [holds, text(lang, "claims.closing.reading"), text(lang, "claims.closing.not_reproduced")]
    return "\n".join(f"- {line}" for line in lines)


# ---------------------------------------------------------------- key findings


def key_findings(result: ClaimsCheck | None, der: pd.DataFrame | None, lang: str = "en") -> KeyFindings:
    """The page's key findings (analysis.present.findings): whether the statements agree, the total's growth,
    the part outside the named areas and a growth the page's own wording pins down; on a user's file (`result`
    None) that the check does not apply."""
    catalogue.check_lang(lang)
    if result is None:
        return kf.block([text(lang, "findings.claims.not_applicable")], lang)
    check = result.table
    n, ok = len(check), int(check["consistent"].sum())
    if ok == n:
        out = [text(lang, "findings.claims.all_agree", n=n)]
    elif n - ok <= 3:  # each named by its wording, without the page's own brackets
        wordings = join_words([text(lang, "claims.label.quoted", text=w.strip().strip("()"))
                               for w in check.loc[~check["consistent"], "wording"]], lang)
        out = [text(lang, "findings.claims.some_disagree", bad=n - ok, n=n, wordings=wordings)]
    else:
        out = [text(lang, "findings.claims.many_disagree", bad=n - ok, n=n)]
    if der is None:
        return kf.block(out, lang)
    d = der.set_index("quantity")
    change = d[(d["kind"] == "change") & d.index.str.startswith("change:total[all->all]@")]
    growth = d[(d["kind"] == "growth_percent") & d.index.str.startswith("growth_percent:total[all->all]@")]
    if len(change) and len(growth):
        c, g = change.iloc[0], growth.iloc[0]
        out.append(text(lang, "findings.claims.total_growth", start=int(c["from_year"]), end=int(c["year"]),
                        change=kf.between(c["low"], c["high"], lang, value=c["from_printed"]),
                        growth=kf.between(g["low"], g["high"], lang, "percent")))
    u = d[d.index.str.startswith(f"{UNEXPLAINED}@")]
    if len(u) and len(change):
        c = change.iloc[0]
        total = c["stated_value"] if pd.notna(c["stated_value"]) else c["from_printed"]
        out.append(text(lang, "findings.claims.unexplained", total=significant(total, lang, 4),
                        range=kf.between(u["low"].iloc[0], u["high"].iloc[0], lang)))
    q, g = f"change:{GP_TO_MUNICIPALITY}@", f"growth_percent:{GP_TO_MUNICIPALITY}@"
    qc, gc = d[d.index.str.startswith(q)], d[d.index.str.startswith(g)]
    if len(qc) and len(gc) and not bool(qc["printed_inside"].iloc[0]):
        r, gr = qc.iloc[0], gc.iloc[0]
        out.append(text(lang, "findings.claims.growth_pins", printed=number(gr["from_printed"], lang, 0),
                        growth=kf.between(gr["low"], gr["high"], lang, "percent"),
                        first=significant(r["printed_start"], lang, 4), second=significant(r["printed_end"], lang, 4)))
    return kf.block(out, lang)
