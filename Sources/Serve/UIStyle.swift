/// The web page's only style sheet, written inline into every page (the Content-Security-Policy allows
/// inline styles and nothing from elsewhere). Classes are coloured by the `data-class` attribute, so the bars,
/// the table cells and the legend cannot disagree.
enum UIStyle {
    /// The classes the page knows, in legend order, with their colours; `unclassified` is a span recorded
    /// before dnswatch classified spans.
    static let classes: [(name: String, colour: String, meaning: String)] = [
        ("unknown", "#d62c1a", "a host not known as parking, sinkhole or yours"),
        ("parked", "#e3a008", "parking or for-sale page"),
        ("sinkhole", "#8e44ad", "sinkhole or seizure"),
        ("owned", "#2e8b57", "your own infrastructure"),
        ("dormant", "#7f8c8d", "non-routable address"),
        ("shared", "#3498db", "shared infrastructure (cloud, CDN, public resolver)"),
        ("nxdomain", "#34495e", "name does not exist"),
        ("nodata", "#b8c0c8", "name exists, no record of the type"),
        ("unclassified", "#e0e0e0", "recorded before classification"),
    ]

    static let css: String = {
        var colours = ""
        for c in classes {
            colours += "[data-class=\"\(c.name)\"]{--c:\(c.colour)}\n"
        }
        return colours + """
        :root{color-scheme:light;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2330;background:#f6f7f9}
        body{margin:0}
        header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
        header a{color:#fff;text-decoration:none;font-weight:600;font-size:1.1rem}
        header form{display:flex;gap:.4rem;flex:1;max-width:36rem}
        input[type=search]{flex:1;padding:.35rem .5rem;border:1px solid #8893a6;border-radius:4px;font:inherit}
        button{padding:.35rem .8rem;border:0;border-radius:4px;background:#3d6fd6;color:#fff;font:inherit;cursor:pointer}
        main{padding:1rem 1.2rem;max-width:80rem}
        h1{font-size:1.4rem;margin:.2rem 0 .6rem;word-break:break-all}
        h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
        a{color:#2452b3}
        .muted{color:#5d6677}
        .note{background:#fff7e0;border:1px solid #e9d48f;padding:.4rem .7rem;border-radius:4px}
        .error{background:#fdecea;border:1px solid #e6a19a;padding:.6rem .8rem;border-radius:4px}
        .facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
        .facts dt{color:#5d6677}.facts dd{margin:0;word-break:break-word}
        table{border-collapse:collapse;background:#fff;width:100%;font-size:.92rem}
        th,td{border-bottom:1px solid #e3e6eb;padding:.3rem .5rem;text-align:left;vertical-align:top}
        th{background:#eef0f4;font-weight:600}
        td.rdata,td.msg{word-break:break-all}
        td.time,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.88em;white-space:nowrap}
        .pill{display:inline-block;padding:0 .45rem;border-radius:.7rem;background:var(--c,#ccc);color:#fff;font-size:.85em}
        .pill[data-class="nodata"],.pill[data-class="unclassified"],.pill[data-class="parked"]{color:#1d2330}
        .legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:.4rem 0 .8rem;padding:0;list-style:none;font-size:.9rem}
        .legend .sw{display:inline-block;width:1.6rem;height:.8rem;border-radius:2px;background:var(--c);vertical-align:-1px;margin-right:.3rem}
        .legend .am{display:inline-block;width:2px;height:.9rem;background:#c0392b;margin:0 .5rem 0 .3rem;vertical-align:-2px}
        .tl{position:relative;background:#fff;border:1px solid #d6dae1;border-radius:4px;padding:0 0 .3rem}
        .tl-row{display:flex;align-items:center;min-height:1.9rem;border-bottom:1px solid #f0f1f4}
        .tl-label{flex:0 0 18rem;box-sizing:border-box;padding:0 .6rem;font-size:.85rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .tl-label b{display:inline-block;min-width:3.4rem}
        .tl-track{position:relative;flex:1;height:1.2rem;margin-right:1rem}
        .bar{position:absolute;top:0;height:100%;min-width:4px;border-radius:3px;background:var(--c);box-shadow:inset 0 0 0 1px rgba(0,0,0,.18)}
        .bar[data-class="unclassified"]{background:repeating-linear-gradient(45deg,#e0e0e0 0 4px,#bdbdbd 4px 8px)}
        .tl-axis{display:flex;align-items:flex-end;height:2.6rem;border-bottom:1px solid #c9ced6}
        .tl-axis .tl-track{height:100%}
        .tick{position:absolute;bottom:0;transform:translateX(-50%);font-size:.72rem;color:#5d6677;white-space:nowrap;padding-bottom:.15rem}
        .tick::before{content:"";position:absolute;left:50%;bottom:-.3rem;height:.3rem;border-left:1px solid #c9ced6}
        .tl-marks{position:absolute;top:0;bottom:0;left:18rem;right:1rem;pointer-events:none}
        .mark{position:absolute;top:0;bottom:0;width:0;border-left:2px dashed #c0392b}
        .mark span{position:absolute;top:.1rem;left:.25rem;font-size:.72rem;color:#c0392b;background:#fff;padding:0 .2rem;white-space:nowrap;font-weight:600}
        .sev-critical{color:#b71c1c;font-weight:600}.sev-high{color:#c0392b}.sev-medium{color:#a05a00}
        footer{padding:1rem 1.2rem;color:#5d6677;font-size:.85rem}
        """
    }()
}
