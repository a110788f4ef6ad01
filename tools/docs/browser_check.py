#!/usr/bin/env python3
"""Serve docs/html on localhost, open it in headless Chromium, and check links.

1. Starts an HTTP server on 127.0.0.1 (free port) over docs/html.
2. Runs Debian's chromium headless to take screenshots of the main page and one
   design page (paths printed; the design page in a window tall enough for its
   diagrams), and dumps the main page's DOM to check that it really rendered
   (title present).
   Every inline graph (@dot) of the design page must fit the page: at most
   GRAPH_MAX_PX wide, what the 1280 px window leaves beside Doxygen's 250 px
   tree view.
3. Crawls every HTML page reachable from index.html over HTTP and checks that
   every internal link (href/src, fragment stripped) answers 200; fragments
   pointing into a page must exist as id/name there.
Exit 1 on any failure.
"""
import html.parser
import http.server
import pathlib
import re
import socketserver
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTML = ROOT / "docs" / "html"
WINDOW_W = 1280
GRAPH_MAX_PX = WINDOW_W - 250 - 30
# Doxygen embeds an inline graph as <iframe src="dot_inline_dotgraph_N.svg" width=...>
# (or <img ...> for bitmaps); the width is the graph's natural size in px.
INLINE_GRAPH = re.compile(r'<(?:iframe|img|object)[^>]*(?:src|data)="(dot_inline_dotgraph_\d+\.\w+)"[^>]*>')
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
                "--hide-scrollbars"]


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])


def serve():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kw):
            super().__init__(*args, directory=str(HTML), **kw)

        def log_message(self, *args):
            pass

    srv = socketserver.TCPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"


def chromium(args, profile):
    cmd = ["chromium", *CHROME_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def main():
    shots = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "docs"
    shots.mkdir(parents=True, exist_ok=True)
    design = sys.argv[2] if len(sys.argv) > 2 else "architecture.html"
    if not (HTML / "index.html").is_file():
        print("browser: docs/html/index.html missing; run make docs"); return 1
    srv, base = serve()
    failures = []
    with tempfile.TemporaryDirectory() as profile:
        for page, name, height in (("index.html", "docs-main.png", 900), (design, "docs-design.png", 1800)):
            out = shots / name
            out.unlink(missing_ok=True)
            r = chromium([f"--screenshot={out}", f"--window-size={WINDOW_W},{height}", base + page], profile)
            if not out.is_file() or out.stat().st_size < 1000:
                failures.append(f"no screenshot of {page}: {r.stderr[-400:]}")
            else:
                print(f"browser: screenshot of {page}: {out} ({out.stat().st_size} bytes)")
        r = chromium(["--dump-dom", base + "index.html"], profile)
        if "safevdev" not in r.stdout:
            failures.append("main page DOM does not mention safevdev (did it render?)")
        else:
            print(f"browser: main page rendered in chromium ({len(r.stdout)} bytes of DOM)")
    graphs = list(INLINE_GRAPH.finditer((HTML / design).read_text(encoding="utf-8", errors="replace")))
    for tag in graphs:
        m = re.search(r'width="(\d+)', tag.group(0))
        if not m:
            failures.append(f"{design}: inline graph {tag.group(1)} has no width")
        elif int(m.group(1)) > GRAPH_MAX_PX:
            failures.append(f"{design}: inline graph {tag.group(1)} is {m.group(1)} px wide, "
                            f"wider than the page ({GRAPH_MAX_PX} px)")
        else:
            print(f"browser: {design}: inline graph {tag.group(1)} {m.group(1)} px wide (page {GRAPH_MAX_PX} px)")
    if not graphs:
        print(f"browser: {design}: no inline graph")
    # crawl
    seen, queue, checked, ids = set(), ["index.html"], 0, {}
    pending_frags = []
    while queue:
        page = queue.pop()
        if page in seen:
            continue
        seen.add(page)
        try:
            with urllib.request.urlopen(base + page, timeout=10) as resp:
                body = resp.read()
        except Exception as exc:  # noqa: BLE001 - any failure is a broken link
            failures.append(f"GET {page}: {exc}")
            continue
        if not page.endswith(".html"):
            continue
        p = Links()
        p.feed(body.decode("utf-8", errors="replace"))
        ids[page] = p.ids
        for link in p.links:
            u = urllib.parse.urlparse(link)
            if u.scheme or link.startswith("//") or link.startswith("mailto:") or link.startswith("javascript:"):
                continue
            target = urllib.parse.urljoin(page, u.path) if u.path else page
            target = urllib.parse.unquote(target)
            checked += 1
            if u.fragment:
                pending_frags.append((page, target, u.fragment))
            if target not in seen:
                queue.append(target)
    for page, target, frag in pending_frags:
        if target.endswith(".html") and target in ids and frag not in ids[target]:
            failures.append(f"{page}: link to {target}#{frag}: no such anchor")
    srv.shutdown()
    print(f"browser: crawled {len(seen)} files, checked {checked} internal links, {len(failures)} failures")
    for f in failures[:50]:
        print("browser: FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
