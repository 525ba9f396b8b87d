extension ReportHTML {
    /// The page's style sheet (`ALPHA` is replaced by the overlay weight). System fonts only.
    static let css = """
    :root { --fg: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg: #ffffff; --panel: #f5f7fa; --accent: #2f6fde; }
    * { box-sizing: border-box; }
    body { margin: 0 auto; max-width: 1280px; padding: 0 20px 40px; color: var(--fg); background: var(--bg);
      font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Helvetica, Arial, sans-serif; }
    h1 { font-size: 26px; margin: 24px 0 6px; }
    h2 { font-size: 21px; margin: 0 0 8px; overflow-wrap: anywhere; }
    h3 { font-size: 16px; margin: 22px 0 8px; }
    code { font: 13px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; overflow-wrap: anywhere; }
    header .meta { color: var(--muted); }
    header nav ol { display: flex; flex-wrap: wrap; gap: 4px 22px; padding-left: 0; margin: 8px 0 0; list-style-position: inside; }
    header nav li.failed a { color: #b3261e; }
    a { color: var(--accent); }
    section.input, section.cards, section.failures { border-top: 2px solid var(--line); padding-top: 16px; margin-top: 28px; }
    .card-row { display: flex; flex-wrap: wrap; gap: 20px; }
    table.card { border-collapse: collapse; background: var(--panel); min-width: 360px; }
    table.card caption { text-align: left; font-weight: 600; padding: 4px 0; }
    table.card th, table.card td { text-align: left; padding: 3px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
    table.card th { color: var(--muted); font-weight: normal; white-space: nowrap; }
    .sha { cursor: help; border-bottom: 1px dotted var(--muted); }
    section.failures ul, section.failure .reason { color: #b3261e; }
    .facts, .hint, .note { color: var(--muted); }
    .note.no-classifier { font-style: italic; }
    table.prediction { border-collapse: collapse; }
    table.prediction th, table.prediction td { padding: 2px 10px; text-align: left; }
    table.prediction td.num { text-align: right; font-variant-numeric: tabular-nums; }
    table.prediction td:last-child { width: 200px; }
    .bar { display: inline-block; height: 10px; background: var(--accent); border-radius: 2px; }
    .ov { position: relative; aspect-ratio: var(--ar); background-size: 100% 100%; background-color: #000; }
    .ov img { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
    .ov img.heat { opacity: ALPHA; }
    .ov img.mask { mix-blend-mode: multiply; opacity: 0.8; }
    .ov.big { width: min(100%, 448px); }
    .explorer { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; outline: none; }
    .explorer:focus-visible { box-shadow: 0 0 0 2px var(--accent); }
    .controls { flex: 1 1 280px; }
    .controls label { display: inline-flex; align-items: center; gap: 8px; }
    .layer-slider, .hv-layer-slider { width: 220px; }
    .head-buttons, .method-buttons { display: flex; flex-wrap: wrap; gap: 4px; margin: 10px 0; }
    .head-buttons button, .method-buttons button { font: inherit; font-size: 13px; padding: 3px 9px; border: 1px solid var(--line); background: var(--panel); border-radius: 4px; cursor: pointer; }
    .head-buttons button.active, .method-buttons button.active { background: var(--accent); color: #fff; border-color: var(--accent); }
    html.js div.method-buttons { display: flex; }
    .ex-figures { display: flex; flex-wrap: wrap; gap: 14px; }
    .ex-method { margin: 0; max-width: 448px; }
    .ex-method .ov { width: min(100%, 448px); }
    html.js .ex-method { display: none; }
    html.js .ex-method.active { display: block; }
    .ex-tokens { display: flex; flex-wrap: wrap; gap: 4px; margin: 4px 0; }
    .ex-tok { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; border-radius: 3px; padding: 1px 6px; }
    .caption { font-variant-numeric: tabular-nums; min-height: 1.4em; }
    .keys { color: var(--muted); font-size: 13px; }
    .js-only { display: none; }
    html.js .js-only { display: block; }
    .strip { display: flex; flex-wrap: wrap; gap: 14px; }
    .strip figure { margin: 0; width: 150px; }
    .strip figure .ov + .ov { margin-top: 4px; }
    figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
    .pair { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
    .pair > div { flex: 0 1 auto; }
    figure.rollout { margin: 0; }
    figure.rollout .ov { width: min(100%, 300px); }
    .grid-wrap { overflow-x: auto; }
    table.grid { border-collapse: collapse; }
    table.grid th { font-size: 12px; font-weight: normal; color: var(--muted); padding: 2px 4px; white-space: nowrap; }
    table.grid td { padding: 2px; }
    table.grid td.current { outline: 2px solid var(--accent); }
    .ov.thumb { width: 92px; cursor: pointer; }
    img.matrix { width: 80px; height: 80px; image-rendering: pixelated; display: block; cursor: pointer; }
    figure.plot { margin: 0; }
    figure.plot svg { max-width: 100%; height: auto; }
    details.data { margin-top: 12px; color: var(--muted); }
    blockquote { margin: 6px 0; padding: 6px 12px; border-left: 3px solid var(--accent); background: var(--panel); }
    ol.tokens { display: flex; flex-wrap: wrap; gap: 6px; padding: 0; list-style: none; }
    ol.tokens li { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; background: var(--panel); border: 1px solid var(--line); border-radius: 3px; padding: 1px 6px; }
    .hv-toggles { display: flex; flex-wrap: wrap; gap: 4px 12px; margin: 8px 0; }
    .hv-toggles label { border-left: 12px solid var(--c); padding-left: 4px; font-size: 13px; }
    .hv-layers { display: flex; flex-wrap: wrap; gap: 10px; }
    html.js .hv-layer { display: none; }
    html.js .hv-layer.active { display: block; }
    .headview-svg { font: 13px system-ui, "DejaVu Sans", sans-serif; }
    .headview-svg line { stroke-width: 2; }
    .headview-svg .hv-title { fill: var(--muted); font-size: 12px; }
    .headview-svg .hv-token { fill: var(--fg); cursor: default; }
    .headview-svg .hv-token:hover { fill: var(--accent); font-weight: 600; }
    .matrix-view { display: grid; grid-template-columns: auto 1fr; grid-template-areas: ". cols" "rows main"; align-items: start; }
    .matrix-view .explorer { grid-area: main; }
    .mx-cols { grid-area: cols; display: flex; align-items: flex-end; }
    .mx-cols span { width: var(--cell); writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; line-height: var(--cell);
      font: min(12px, calc(var(--cell) - 4px)) ui-monospace, "DejaVu Sans Mono", monospace; padding-bottom: 4px; overflow: hidden; max-height: 120px; }
    .mx-rows { grid-area: rows; display: flex; flex-direction: column; align-items: flex-end; padding-right: 4px; }
    .mx-rows span { height: var(--cell); line-height: var(--cell); white-space: nowrap; max-width: 140px; overflow: hidden;
      font: min(12px, calc(var(--cell) - 4px)) ui-monospace, "DejaVu Sans Mono", monospace; }
    .mx-img img { width: calc(var(--t) * var(--cell)); height: calc(var(--t) * var(--cell)); image-rendering: pixelated; display: block; }
    img.colorbar { width: 160px; height: 12px; vertical-align: middle; image-rendering: pixelated; }
    footer { margin-top: 40px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
    """
}
