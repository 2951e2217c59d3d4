"""The figure style is seaborn's theme, applied from the result cache without importing seaborn each time."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt


def test_set_style_applies_exactly_what_seaborn_set_theme_applies():
    """set_style's theme and colours equal sns.set_theme(whitegrid, notebook, colorblind)'s rcParams, key by key."""
    import seaborn as sns

    from analysis.present import plotting

    with mpl.rc_context():
        sns.set_theme(style="whitegrid", context="notebook", palette=plotting.PALETTE, font_scale=1.0)
        expected = dict(mpl.rcParams)
    with mpl.rc_context():
        plotting.set_style()
        got = dict(mpl.rcParams)
    rc, palette = plotting.seaborn_theme()
    assert rc  # the theme sets something: the comparison below is over real keys
    # all but seaborn's default colormap, which only exists once seaborn is imported (no figure draws an image)
    assert set(expected) - set(rc) >= {"image.cmap"} and "image.cmap" not in rc
    own = {"figure.figsize", "figure.dpi", "savefig.dpi", "savefig.bbox", "axes.titleweight",
           "axes.spines.top", "axes.spines.right", "svg.hashsalt"}  # the package's own settings on top
    for name in set(rc) - own:
        assert got[name] == expected[name], name
    assert got["axes.prop_cycle"] == expected["axes.prop_cycle"]
    # seaborn's colorblind palette: its first colour is #0173b2 = (1, 115, 178) / 255
    assert palette[0] == (1 / 255, 115 / 255, 178 / 255)
    assert plotting.colors(12)[10] == palette[0]  # more colours than the palette has: it cycles
    plt.close("all")


def test_the_theme_comes_from_the_cache_without_importing_seaborn(tmp_path, monkeypatch):
    """Computed by seaborn once (here, into an empty cache), the theme is read from the cache by another process,
    which never imports seaborn and applies the same colours."""
    import subprocess
    import sys

    from analysis.present import plotting

    monkeypatch.setenv("HELSEMELDINGER_CACHE", str(tmp_path))
    assert not list(tmp_path.rglob("*.pkl"))
    _, palette = plotting.seaborn_theme()  # computed by seaborn, and kept
    assert list(tmp_path.rglob("*.pkl"))
    code = ("import io, sys; import matplotlib.pyplot as plt; from analysis.present import plotting; "
            "plotting.set_style(); fig, ax = plt.subplots(); ax.bar([1], [1]); "
            "fig.savefig(io.BytesIO(), format='png'); print('seaborn' in sys.modules); "
            "print(plt.rcParams['axes.prop_cycle'].by_key()['color'][0])")
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTEST_CURRENT_TEST"}
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    imported, first_colour = second.stdout.strip().splitlines()
    assert imported == "False"  # read from the cache
    assert first_colour == str(palette[0])
