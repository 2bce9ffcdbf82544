// The status page's style sheet (served as /assets/page.css, so the page needs no inline style).
export const PAGE_CSS = `
:root {
  --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #ffffff; --head: #f6f8fa; --link: #0969da;
  --ok: #1a7f37; --failed: #cf222e; --alert: #bf8700; --running: #0969da; --interrupted: #bc4c00;
  --skipped: #8c959f; --never: #d0d7de; --other: #8250df;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; padding: 24px 32px 48px; color: var(--fg); background: var(--bg);
  font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
#live { max-width: 1280px; margin: 0 auto; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
h1 { font-size: 22px; margin: 0 0 4px; font-weight: 600; }
h2 { font-size: 17px; margin: 0 0 2px; font-weight: 600; }
header { margin-bottom: 20px; }
.meta { margin: 0; color: var(--muted); }
.muted { color: var(--muted); }
.sub { color: var(--muted); font-size: 12px; margin: 2px 0 0; overflow-wrap: anywhere; }
.problem { margin: 10px 0 0; padding: 8px 12px; border-left: 4px solid var(--failed); background: #ffebe9; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 600; margin-right: 4px; color: #fff; }
.pill.good { background: var(--ok); }
.pill.bad { background: var(--failed); }
.pill.wait { background: var(--alert); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--head); font-weight: 600; font-size: 12px; color: var(--muted); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.jobs { border: 1px solid var(--line); border-radius: 6px; }
table.jobs td.name { font-weight: 600; white-space: nowrap; }
table.jobs td.next, table.jobs td.last { white-space: nowrap; }
td.error { max-width: 460px; }
.err { color: var(--failed); display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; overflow-wrap: anywhere; }
.chip { display: inline-flex; align-items: center; gap: 6px; font-weight: 600; white-space: nowrap; }
.chip .dot { width: 10px; height: 10px; border-radius: 50%; background: var(--other); }
.s-ok .dot { background: var(--ok); } .s-ok { color: var(--ok); }
.s-failed .dot { background: var(--failed); } .s-failed { color: var(--failed); }
.s-alert .dot { background: var(--alert); } .s-alert { color: var(--alert); }
.s-running .dot { background: var(--running); } .s-running { color: var(--running); }
.s-interrupted .dot { background: var(--interrupted); } .s-interrupted { color: var(--interrupted); }
.s-skipped .dot { background: var(--skipped); } .s-skipped { color: #57606a; }
.s-never .dot { background: #fff; border: 2px solid var(--never); } .s-never { color: var(--muted); }
.s-other .dot { background: var(--other); } .s-other { color: var(--other); }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 0; margin: 10px 0 0; font-size: 12px; }
section.job { margin-top: 28px; padding-top: 18px; border-top: 1px solid var(--line); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; margin: 12px 0; }
figure.chart { margin: 0; padding: 8px 10px 4px; border: 1px solid var(--line); border-radius: 6px; min-height: 200px; }
figure.chart figcaption { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
table.runs { font-size: 13px; }
table.runs td { padding: 5px 10px; }
table.runs td:nth-child(-n+3) { white-space: nowrap; }
.more { margin: 6px 0 0; font-size: 12px; }
button { white-space: nowrap; font: inherit; font-size: 12px; padding: 3px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--head); cursor: pointer; }
button:hover { background: #eaeef2; }
.uplot { font-family: inherit; }
.u-legend { font-size: 12px; }
`;
