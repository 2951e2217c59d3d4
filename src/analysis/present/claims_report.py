"""Tables, figures and sentences for readers of the claims check and reconciliation (notebook 01), in nb or en.

The numbers come from :mod:`analysis.claims`; this module only labels and formats them
(:mod:`analysis.present.formatting`) and draws them. Intervals show their closedness: a round bracket marks an open
end, a bound that no value the wording strictly allows reaches ("(31; 31,1)"), and bounds are rounded
outwards. The tables here are for reading (headers and numbers in the page's language); the notebook exports
the frames of :mod:`analysis.claims` as CSV, with English column names and decimal points, for reuse.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from analysis.present import i18n
from analysis.claims import _TOL, UNDATED
from analysis.present.formatting import bracketed, decimal_marks, significant
from analysis.present.plotting import HATCHES, colors, wrap

_TEXT = {
    "unexplained": {"nb": "Uforklart del av endringen i totalen", "en": "Unexplained part of the total change"},
    "other": {"nb": "Øvrige meldinger (utenom alle navngitte kategorier)",
              "en": "Other messages (outside every named category)"},
    "rest": {"nb": "Resten (avledet: total − de tre)", "en": "The rest (derived: total − the three)"},
    "change": {"nb": "Endring", "en": "Change"},
    "growth": {"nb": "Vekst i prosent", "en": "Growth in percent"},
    "no_year": {"nb": "uten år", "en": "no year"},
    "million": {"nb": "mill.", "en": "million"},
    "mill_year_axis": {"nb": "millioner meldinger per år", "en": "million messages per year"},
    "change_axis": {"nb": "endring 2020–2021, millioner meldinger", "en": "change 2020–2021, million messages"},
}


_HEADERS = {
    "claim_id": {"nb": "id", "en": "id"},
    "wording": {"nb": "Utsagn (som trykt)", "en": "Statement (as printed)"},
    "stated": {"nb": "Oppgitt intervall", "en": "Stated interval"},
    "implied": {"nb": "De andre utsagnene tilsier", "en": "Implied by the others"},
    "reconciled": {"nb": "Avstemt (alle utsagn)", "en": "Reconciled (all statements)"},
    "unit": {"nb": "Enhet", "en": "Unit"},
    "ok": {"nb": "Stemmer", "en": "Agrees"},
    "quantity": {"nb": "Størrelse", "en": "Quantity"},
    "on_page": {"nb": "Oppgitt på siden", "en": "Stated on the page"},
    "from_printed": {"nb": "Regnet fra trykte tall (som om eksakte)", "en": "From the printed figures (as if exact)"},
    "bounds": {"nb": "Avstemte grenser", "en": "Reconciled bounds"},
    "inside": {"nb": "Trykt regnestykke innenfor", "en": "Printed arithmetic inside"},
    "convention": {"nb": "Konvensjon", "en": "Convention"},
    "paraphrase": {"nb": "Omskrevet (engelsk)", "en": "Paraphrase"},
    "relation": {"nb": "Sammenheng (streng ulikhet ved åpen ende)", "en": "Relation (strict at an open end)"},
    "constraint": {"nb": "Betingelse", "en": "Constraint"},
    "relation_plain": {"nb": "Sammenheng", "en": "Relation"},
}

_STRUCTURAL = {
    "nonnegative": ({"nb": "Ingen negative nivåer", "en": "No negative levels"},
                    {"nb": "hvert nivå ≥ 0 (antall meldinger)", "en": "every level ≥ 0 (message counts)"}),
    "other_definition": ({"nb": "Øvrige meldinger, {year}", "en": "Other messages, {year}"}, None),
    "other_nonnegative": ({"nb": "Totalen rommer delene, {year}", "en": "The total holds its parts, {year}"},
                          None),
}


def _t(key: str, lang: str) -> str:
    return i18n.pick(_TEXT[key], lang)


def _h(key: str, lang: str) -> str:
    return i18n.pick(_HEADERS[key], lang)


def flow_label(measure: str, sender: str, receiver: str, lang: str = "en") -> str:
    """Short label for a measure or a care-message flow, e.g. "PLO fastlege → kommune"."""
    if measure == "unexplained":
        return _t("unexplained", lang)
    if measure == "other":
        return _t("other", lang)
    if measure == "plo" and (sender, receiver) != ("all", "all"):
        return (f"PLO {i18n.label(i18n.PARTIES, sender, lang)} → "
                f"{i18n.label(i18n.PARTIES, receiver, lang)}")
    return i18n.label(i18n.MEASURES, measure, lang)


def quantity_label(row: Mapping, lang: str = "en") -> str:
    """Label for one row of :func:`analysis.claims.reconcile` or :func:`analysis.claims.derived`, in `lang`."""
    base = flow_label(row["measure"], row["sender"], row["receiver"], lang)
    year = row.get("year")
    if row.get("from_year") is None or pd.isna(row.get("from_year")):
        return f"{base}, {_t('no_year', lang) if year in (None, UNDATED) or pd.isna(year) else year}"
    span = f"{row['from_year']}–{year}"
    if row["measure"] == "unexplained":
        return f"{base}, {span}"
    prefix = _t("growth", lang) if row["kind"] == "growth_percent" else _t("change", lang)
    return f"{prefix}: {base}, {span}"


def _unit_text(unit: str, lang: str) -> str:
    return "%" if unit == "percent" else (_t("million", lang) if unit == "million messages" else unit)


def _brackets(frame: pd.DataFrame, lang: str, prefix: str = "") -> list[str]:
    """`prefix`low/high with their closedness (`prefix`low_closed, ...) as bracketed intervals."""
    cols = [f"{prefix}low", f"{prefix}high", f"{prefix}low_closed", f"{prefix}high_closed"]
    return [bracketed(lo, hi, lang, bool(lc), bool(hc)) for lo, hi, lc, hc in
            zip(*(frame[c] for c in cols), strict=True)]


def hedged(value: float, qualifier: str, lang: str = "en", digits: int = 4) -> str:
    """A printed figure with its hedge word, as the page has it: "over 63", "rundt 5" / "about 5", "23,5"."""
    word = i18n.label(i18n.QUALIFIERS, qualifier, lang) if qualifier and qualifier != "exact" else ""
    return f"{word} {significant(value, lang, digits)}".strip()


def registry_table(reg: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`analysis.claims.registry` as a reader's table: id, wording, the relation (decimal marks of `lang`);
    the English paraphrase only in en."""
    i18n.check_lang(lang)
    out = {_h("claim_id", lang): reg["claim_id"], _h("wording", lang): reg["wording"]}
    if lang == "en":
        out[_h("paraphrase", lang)] = reg["paraphrase"]
    joint = i18n.pick({"nb": " og ", "en": " and "}, lang)
    out[_h("relation", lang)] = [decimal_marks(r, lang).replace(" and ", joint) for r in reg["relation"]]
    return pd.DataFrame(out)


def structural_table(struct: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`analysis.claims.structural_constraints` as a reader's table: what each constraint says, in `lang`."""
    i18n.check_lang(lang)
    names, relations = [], []
    for label, relation in zip(struct["label"], struct["relation"], strict=True):
        key, _, year = label.partition("@")
        name, text = _STRUCTURAL.get(key, ({"nb": label, "en": label}, None))
        names.append(i18n.pick(name, lang).format(year=year))
        relations.append(i18n.pick(text, lang) if text else decimal_marks(relation, lang))
    return pd.DataFrame({_h("constraint", lang): names, _h("relation_plain", lang): relations})


def claims_table(check: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The check as a reader's table: statement as printed, stated interval, implied, reconciled, ✓ or ✗."""
    i18n.check_lang(lang)
    return pd.DataFrame({
        _h("claim_id", lang): check["claim_id"],
        _h("wording", lang): check["wording"],
        _h("unit", lang): [_unit_text(u, lang) for u in check["unit"]],
        _h("stated", lang): _brackets(check, lang, "stated_"),
        _h("implied", lang): _brackets(check, lang, "implied_"),
        _h("reconciled", lang): _brackets(check, lang, "reconciled_"),
        _h("ok", lang): ["✓" if ok else "✗" for ok in check["consistent"]],
    })


def derived_table(der: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The recomputed figures as a reader's table: stated wording, printed arithmetic, reconciled bounds."""
    i18n.check_lang(lang)
    return pd.DataFrame({
        _h("quantity", lang): [quantity_label(r, lang) for _, r in der.iterrows()],
        _h("on_page", lang): der["stated"].replace("", "–"),
        _h("from_printed", lang): [significant(v, lang, 4) for v in der["from_printed"]],
        _h("bounds", lang): _brackets(der, lang),
        _h("unit", lang): [_unit_text(u, lang) for u in der["unit"]],
        _h("inside", lang): ["✓" if ok else "✗" for ok in der["printed_inside"]],
    })


def reconciled_table(rec: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """:func:`analysis.claims.reconcile` output as a reader's table: quantity label, reconciled bounds, unit."""
    i18n.check_lang(lang)
    return pd.DataFrame({
        _h("quantity", lang): [quantity_label(r, lang) for _, r in rec.iterrows()],
        _h("bounds", lang): _brackets(rec, lang),
        _h("unit", lang): [_unit_text(u, lang) for u in rec["unit"]],
        "quantity": rec["quantity"],
    })


def sensitivity_table(sens: pd.DataFrame, rec: pd.DataFrame | None = None, lang: str = "en") -> pd.DataFrame:
    """:func:`analysis.claims.sensitivity` output as one row per quantity and one column of bounds per convention.

    `rec` (an :func:`analysis.claims.reconcile` result) supplies readable labels; without it the quantity names
    are shown.
    """
    i18n.check_lang(lang)
    labels = {} if rec is None else {q: quantity_label(r, lang) for q, r in rec.set_index("quantity").iterrows()}
    text = sens.assign(
        label=[labels.get(q, q) for q in sens["quantity"]],
        bounds=[b if ok else ("✗ " + c) for b, ok, c in
                zip(_brackets(sens, lang), sens["consistent"], sens["conflict"], strict=True)],
    )
    table = text.pivot(index="label", columns="convention", values="bounds")
    order = list(dict.fromkeys(text["label"]))
    table = table.reindex(index=order, columns=list(dict.fromkeys(sens["convention"])))
    table.index.name = _h("quantity", lang)
    table.columns.name = _h("convention", lang)
    return table.reset_index()


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
            label = (_t("rest", lang) if p == "rest" else i18n.label(i18n.MEASURES, p, lang)) if j == 0 else None
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
        ax.annotate(f"{i18n.pick({'nb': 'Totalt', 'en': 'Total'}, lang)} {hedged(tot['value'], tot['qualifier'], lang)}"
                    f"  {bracketed(tot['low'], tot['high'], lang, tot['low_closed'], tot['high_closed'])}",
                    (j, tot["high"] + 6), ha="center", fontsize=9, fontweight="bold")
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.grid(axis="x", visible=False)
    ax.set_xlim(-0.5, len(years) - 0.5 + 0.55)
    ax.set_ylim(0, stack["high"].max() * 1.12)
    ax.set_ylabel(_t("mill_year_axis", lang))
    ax.set_title(i18n.pick({"nb": "Alle medisinske meldinger: tre pandemirelaterte områder og resten",
                            "en": "All medical messages: three pandemic-related areas and the rest"}, lang))
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], frameon=False, loc="upper left", fontsize=8.5)
    fig.text(0.01, 0.01, i18n.pick({
        "nb": "Søyler: trykte tall («resten» avledet som differanse). Tekst: trykt tall med forbeholdsord og avstemt "
              "intervall; rund parentes = åpen ende (nås ikke). Feilstolpen på totalen er knapt synlig her.",
        "en": "Bars: printed figures (the rest derived as a difference). Text: printed figure with its hedge word and "
              "reconciled interval; round bracket = open end (not reached). The total's whisker is barely visible."},
        lang),
        fontsize=8, style="italic")
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
    bx.set_xticks(np.arange(len(keys)), [wrap(flow_label("plo", s, r, lang).replace("PLO ", ""), 22)
                                         for s, r in keys])
    bx.set_ylabel(wrap(i18n.pick({"nb": "tusen meldinger fra det trykte tallet",
                                  "en": "thousand messages from the printed figure"}, lang), 24), fontsize=9)
    ax.set_ylim(0, flows["high"].max() * 1.45)
    ax.set_ylabel(_t("mill_year_axis", lang))
    for axis in (ax, bx):
        axis.grid(axis="x", visible=False)
    ax.set_title(i18n.pick({"nb": "Pleie- og omsorgsmeldinger mellom fastlege, kommune og helseforetak",
                            "en": "Care messages (PLO) between GP, municipality and hospital trusts"}, lang))
    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="0.6", lw=9), Line2D([], [], color="black", lw=1.6, marker="_", markersize=10)]
    labels += [i18n.pick({"nb": "oppgitt intervall (nedre panel)", "en": "stated interval (lower panel)"}, lang),
               i18n.pick({"nb": "avstemt (alle utsagn)", "en": "reconciled (all statements)"}, lang)]
    ax.legend(handles, labels, frameon=False, loc="upper right", fontsize=8.5)
    fig.text(0.01, 0.005, i18n.pick({
        "nb": "Søyler og ruter: trykte tall. Tall over søylene: avstemte grenser i millioner (rund parentes = åpen "
              "ende, nås ikke). Nedre panel: intervallene rundt det trykte tallet, i tusen meldinger.",
        "en": "Bars and diamonds: printed figures. Numbers above the bars: reconciled bounds in million (round "
              "bracket = open end, not reached). Lower panel: the intervals around the printed figure, in thousand "
              "messages."}, lang),
        fontsize=8, style="italic", wrap=True)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_changes(der: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """Figure 3: each change 2020–2021, the stated (or printed-arithmetic) value with reconciled bounds."""
    ch = der[der["kind"].isin(["change", "residual"])].copy()
    ch["value"] = ch["stated_value"].fillna(ch["from_printed"])
    ch["is_derived"] = ch["stated_value"].isna()
    ch["label"] = [wrap(flow_label(m, s, r, lang), 30) for m, s, r in
                   zip(ch["measure"], ch["sender"], ch["receiver"], strict=True)]
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
            inside = r["printed_inside"] if r["is_derived"] else r["low"] - _TOL <= r["value"] <= r["high"] + _TOL
            outside = "" if inside else i18n.pick(
                {"nb": "\n ✗ trykt regnestykke utenfor", "en": "\n ✗ printed arithmetic outside"}, lang)
            ax.annotate(f" {bracketed(r['low'], r['high'], lang, r['low_closed'], r['high_closed'])}{outside}",
                        (max(r["value"], r["high"]), p), va="center", fontsize=8)
        ax.set_yticks(pos, sub["label"])
        ax.grid(axis="y", visible=False)
        ax.set_xlim(min(0, sub["low"].min()), max(sub["high"].max(), sub["value"].max()) * 1.6)
        ax.set_xlabel(_t("change_axis", lang))
    axes[1].set_title(i18n.pick({"nb": "Pleie- og omsorgsmeldinger", "en": "Care messages (PLO)"}, lang),
                      fontsize=10)
    fig.suptitle(i18n.pick({"nb": "Endring fra 2020 til 2021 med avstemte grenser",
                            "en": "Change from 2020 to 2021 with reconciled bounds"}, lang), fontweight="bold")
    handles = [Patch(facecolor=pal[0], edgecolor="black", label=i18n.pick(
                   {"nb": "oppgitt på siden", "en": "stated on the page"}, lang)),
               Patch(facecolor=pal[1], edgecolor="black", hatch="//", label=i18n.pick(
                   {"nb": "avledet fra trykte tall (som om eksakte)",
                    "en": "derived from printed figures (as if exact)"}, lang)),
               Line2D([], [], color="black", lw=1.4, marker="|", markersize=8,
                      label=i18n.pick({"nb": "avstemte grenser", "en": "reconciled bounds"}, lang))]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=8.5)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    return fig


def findings(check: pd.DataFrame, der: pd.DataFrame, lang: str = "en") -> str:
    """Generated markdown sentences with the key numbers of the check and the reconciliation."""
    i18n.check_lang(lang)
    d = der.set_index("quantity")
    n, ok = len(check), int(check["consistent"].sum())

    def iv(q: str) -> str:
        return bracketed(d.loc[q, "low"], d.loc[q, "high"], lang, d.loc[q, "low_closed"], d.loc[q, "high_closed"])

    def num(v: float, digits: int = 3) -> str:
        return significant(v, lang, digits)

    fk = "plo[fastlege->kommune]"
    lines = []
    if ok == n:
        lines.append(i18n.pick({"nb": f"Alle {n} utsagn på siden stemmer med hverandre under denne konvensjonen.",
                                "en": f"All {n} statements on the page agree with each other under this "
                                      "convention."}, lang))
    else:
        lines.append(i18n.pick({"nb": f"{n - ok} av {n} utsagn stemmer ikke med de andre: "
                                      f"{', '.join(check.loc[~check['consistent'], 'claim_id'])}.",
                                "en": f"{n - ok} of {n} statements do not agree with the others: "
                                      f"{', '.join(check.loc[~check['consistent'], 'claim_id'])}."}, lang))
    stated_changes = d[(d["kind"] == "change") & d["stated_value"].notna()]
    if len(stated_changes):
        agree = (stated_changes["from_printed"] - stated_changes["stated_value"]).abs() < 1e-9
        sums = ", ".join(f"{num(r['printed_end'], 4)} − {num(r['printed_start'], 4)} = {num(r['from_printed'], 4)}"
                         f"{'' if ok_ else ' ≠ ' + num(r['stated_value'], 4)}"
                         for (_, r), ok_ in zip(stated_changes.iterrows(), agree, strict=True))
        lines.append(i18n.pick({
            "nb": f"{'Hver' if agree.all() else 'Ikke hver'} oppgitt endring er lik differansen mellom de trykte "
                  f"nivåene: {sums}.",
            "en": f"{'Every' if agree.all() else 'Not every'} stated change equals the difference of its printed "
                  f"levels: {sums}."}, lang))
    tight = check[(check["reconciled_high"] - check["reconciled_low"])
                  < (check["stated_high"] - check["stated_low"]) - 1e-6]
    if len(tight):
        quote = ("«", "»") if lang == "nb" else ("“", "”")
        recon = dict(zip(tight["claim_id"], _brackets(tight, lang, "reconciled_"), strict=True))
        items = ", ".join(f"{quote[0]}{r['wording']}{quote[1]} ({r['claim_id']}) → {recon[r['claim_id']]}"
                          for _, r in tight.iterrows())
        lines.append(i18n.pick({
            "nb": f"Disse utsagnene er strammere bundet av de andre enn av sin egen ordlyd: {items}.",
            "en": f"These statements are pinned down more tightly by the others than by their own wording: "
                  f"{items}."}, lang))
    tg = "growth_percent:total[all->all]@2020-2021"
    if tg in d.index:
        lines.append(i18n.pick({
            "nb": f"Totalen vokste med {iv(tg)} prosent (de trykte tallene, tatt som eksakte, gir "
                  f"{num(d.loc[tg, 'from_printed'])} %).",
            "en": f"The total grew by {iv(tg)} percent (the printed figures, taken as exact, give "
                  f"{num(d.loc[tg, 'from_printed'])} %)."}, lang))
    q = f"change:{fk}@2020-2021"
    if q in d.index and not d.loc[q, "printed_inside"]:
        lines.append(i18n.pick({
            "nb": f"«Over 82 prosent» binder meldingene fra fastleger til kommunene: endringen var {iv(q)} "
                  f"millioner, ikke de {num(d.loc[q, 'from_printed'], 2)} millionene de trykte nivåene gir, og "
                  f"veksten {num(d.loc[f'growth_percent:{fk}@2020-2021', 'from_printed'])} % fra de trykte "
                  "tallene ligger utenfor det siden sier.",
            "en": f"'Over 82 prosent' pins the messages from GPs to municipalities: the change was {iv(q)} "
                  f"million, not the {num(d.loc[q, 'from_printed'], 2)} million the printed levels give, and the "
                  f"growth of {num(d.loc[f'growth_percent:{fk}@2020-2021', 'from_printed'])} % from the printed "
                  "figures lies outside what the page states."}, lang))
    u = "unexplained_change@2020-2021"
    total = significant(d.loc["change:total[all->all]@2020-2021", "stated_value"], lang, 3) if (
        "change:total[all->all]@2020-2021" in d.index) else "?"
    if u in d.index:
        lines.append(i18n.pick({
            "nb": f"SYSVAK, svarrapporter, frikort/egenandel og PLO fastlege → kommune forklarer hele økningen "
                  f"på {total} millioner unntatt {iv(u)} millioner.",
            "en": f"SYSVAK, result reports, exemption card/co-payment and PLO GP → municipality explain all of "
                  f"the {total} million increase except {iv(u)} million."}, lang))
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
    i18n.check_lang(lang)
    years = sorted(int(y) for y in data.loc[(data["kind"] == "level") & data["year"].notna(), "year"].unique())
    if len(years) < 2:
        return ""
    y0, y1 = years[0], years[-1]
    mill = i18n.pick({"nb": "millioner", "en": "million"}, lang)
    up = i18n.pick({"nb": "opp", "en": "up"}, lang)

    def h(row: pd.Series | None) -> str:
        return "?" if row is None else hedged(row["value"], row["qualifier"], lang)

    def span(measure: str, sender: str = "all", receiver: str = "all") -> str | None:
        a, b = (_statement(data, measure, "level", y, sender, receiver) for y in (y0, y1))
        if a is None or b is None:
            return None
        change = _statement(data, measure, "change", None, sender, receiver)
        tail = "" if change is None else f", {up} {h(change)}"
        return f"{h(a)} → {h(b)} {mill}{tail}"

    parts = []
    total = span("total")
    if total:
        plateau = _statement(data, "total", "level")
        before = "" if plateau is None else i18n.pick(
            {"nb": f"; før det {h(plateau)} {mill} i året i noen år siden ikke navngir",
             "en": f"; before that {h(plateau)} {mill} a year in some years the page does not name"}, lang)
        parts.append(i18n.pick({"nb": f"Alle medisinske meldinger {y0} → {y1}: {total}{before}.",
                                "en": f"All medical messages {y0} → {y1}: {total}{before}."}, lang))
    areas = [f"{i18n.label(i18n.MEASURES, m, lang)}: {span(m)}" for m in ("sysvak", "svarrapporter",
                                                                         "frikort_egenandel") if span(m)]
    if areas:
        parts.append(i18n.pick({"nb": "Tre pandemirelaterte områder: ", "en": "Three pandemic-related areas: "},
                               lang) + "; ".join(areas) + ".")
    for _, g in data[data["kind"] == "growth_percent"].iterrows():
        levels = span(g["measure"], g["sender"], g["receiver"])
        flow = flow_label(g["measure"], g["sender"], g["receiver"], lang)
        parts.append(i18n.pick({"nb": f"{flow}: vekst på {h(g)} prosent ({levels}).",
                                "en": f"{flow}: growth of {h(g)} percent ({levels})."}, lang))
    return " ".join(parts)


def closing_notes(data: pd.DataFrame, der: pd.DataFrame, lang: str = "en") -> str:
    """The closing section as markdown bullets: what the figures say (from `data`), what holds, how much depends
    on the reading, and what cannot be reproduced; the "over 82 prosent" case only when the printed arithmetic of
    that flow falls outside its reconciled bounds (as it does on the published page)."""
    i18n.check_lang(lang)
    d = der.set_index("quantity")
    q = "change:plo[fastlege->kommune]@2020-2021"
    corner = q in d.index and not d.loc[q, "printed_inside"]
    says = page_statements(data, lang)
    lines = []
    if says:
        lines.append(i18n.pick({"nb": "**Hva siden sier.** ", "en": "**What the page says.** "}, lang) + says)
    lines.append(i18n.pick({
        "nb": "**Hva som holder, og hvor avrundingen gir rom.** Sammendraget over, generert fra tabellene, viser "
              "hvilke utsagn som stemmer, hvilke oppgitte endringer som er lik differansen mellom de trykte "
              "nivåene, hvilke utsagn de andre binder strammere enn deres egen ordlyd, og hvor mye av økningen de "
              "navngitte områdene forklarer."
              + (" Det mest lærerike tilfellet er «over 82 prosent»: det er *ikke* det de trykte nivåene gir, så "
                 "begge kan bare holde hvis de sanne verdiene ligger i et smalt hjørne av avrundingsintervallene; "
                 "den enkle differansen mellom de trykte tallene overdriver den endringen (figur 3, ✗ i tabellen "
                 "over tallene regnet om)." if corner else ""),
        "en": "**What holds, and where rounding leaves room.** The summary above, generated from the tables, says "
              "which statements agree, which stated changes equal the difference of their printed levels, which "
              "statements the others pin down more tightly than their own wording, and how far the named areas "
              "explain the increase."
              + (" The most instructive case is \"over 82 prosent\": it is *not* what the printed levels give, so "
                 "both can hold only if the true values lie in a narrow corner of their rounding intervals; the "
                 "naive difference of the printed figures overstates that change (figure 3, ✗ in the table of "
                 "recomputed figures)." if corner else "")}, lang))
    lines.append(i18n.pick({
        "nb": "**Hvor mye avhenger av lesemåten.** En videre lesing av forbeholdsordene kan bare gjøre grensene "
              "videre: et videre intervall fjerner ingen verdi et smalere tillot, så utsagn som stemmer under "
              "standardkonvensjonen, stemmer under enhver videre lesing. Følsomhetstabellen viser hvor mye; en "
              "lesing av tallene som eksakte, som ser bort fra avrundingen, kan få siden til å motsi seg selv.",
        "en": "**How much depends on the reading.** A wider reading of the hedge words can only widen the bounds: a "
              "wider interval removes no value that a narrower one allowed, so statements that agree under the "
              "default agree under every wider reading. The sensitivity table shows by how much; reading the "
              "figures as exact, which ignores rounding, can make the page contradict itself."}, lang))
    lines.append(i18n.pick({
        "nb": "**Hva som ikke kan gjenskapes.** Sidens figur over årlige totaler 2010–2021 er et bilde, og tallene "
              "er ikke publisert som tekst; denne pakken inneholder eller anslår dem ikke, så platået på «rundt 200 "
              "millioner» kan bare kontrolleres mot det tidligste året med en total. Siden bryter ikke ned de øvrige "
              "meldingene (totalen minus alle navngitte kategorier, den største delen av totalen), så hvor den "
              "uforklarte delen av veksten kom fra, kan ikke sies.",
        "en": "**What cannot be reproduced.** The page's chart of the yearly totals 2010–2021 is an image whose "
              "numbers are not published as text; this package does not contain or estimate them, so the \"about "
              "200 million\" plateau can only be checked against the earliest year with a total. The page gives "
              "no breakdown of the other messages (the total minus every named category, the largest share of "
              "the total), so where the unexplained part of the growth came from cannot be said."}, lang))
    return "\n".join(f"- {line}" for line in lines)


def unconstrained_note(check: pd.DataFrame, lang: str = "en") -> str:
    """A sentence naming the level statements that no other statement constrains (the others imply only the
    structural limits, from 0 up), or "" when there are none."""
    i18n.check_lang(lang)
    free = check[(check["kind"] == "level") & (check["implied_low"].abs() <= _TOL)
                 & np.isfinite(check["implied_high"])]
    if free.empty:
        return ""
    ids = ", ".join(free["claim_id"])
    return i18n.pick({
        "nb": f"For {len(free)} utsagn ({ids}) gir de andre utsagnene bare de strukturelle grensene, fra 0 opp til "
              "det totalen gir rom for etter de andre kategoriene: ingen andre utsagn nevner disse størrelsene.",
        "en": f"For {len(free)} statements ({ids}) the other statements imply only the structural limits, from 0 up "
              "to what the total leaves after the other categories: no other statement names these quantities."},
        lang)
