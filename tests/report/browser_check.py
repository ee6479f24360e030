#!/usr/bin/env python3
"""Loads an HTML report in headless Chromium and checks that it renders as a person would see it.

Chromium is driven over --remote-debugging-pipe (the DevTools protocol, NUL-separated JSON on file
descriptors 3 and 4) with the standard library only. At a window of --width CSS pixels it checks:
every <svg> in the file is in the page, at a non-zero size, draws something (a line, band or
marker), and fits the window; the page does not scroll sideways; the panels of each figure row
(<div class='panels'>) stand side by side; and no console error, uncaught exception or failed
load was reported. Exit 0 when all hold, 1 listing each problem, 2 on bad usage or a browser
that would not start. With --expect-problem TEXT... the check is inverted, to test the checker:
exit 0 only when each TEXT appears in some reported problem.
"""
import argparse
import fcntl
import json
import os
import pathlib
import select
import shutil
import subprocess
import sys
import tempfile
import time

# Measured in the page after it has loaded: one record per <svg>, the window, each figure row.
MEASURE_JS = r"""
(() => {
  const svgs = [...document.querySelectorAll('svg')].map((svg, i) => {
    const r = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('polyline, polygon, circle')];
    const drawn = marks.filter(m => { const b = m.getBBox(); return b.width > 0 || b.height > 0; });
    const title = svg.querySelector("text[font-weight='bold']");
    return {index: i, title: title ? title.textContent : '', width: r.width, height: r.height,
            left: r.left, right: r.right, top: r.top,
            marks: marks.length, marks_drawn: drawn.length};
  });
  const rows = [...document.querySelectorAll('.panels')].map(
      row => [...row.children].map(c => c.getBoundingClientRect().top));
  return {svgs, rows, inner_width: window.innerWidth,
          scroll_width: document.documentElement.scrollWidth};
})()
"""


class Browser:
    """One headless Chromium with a DevTools pipe; call() sends a command and waits for its reply,
    keeping every event that arrives meanwhile in self.events."""

    def __init__(self, chromium, profile):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_fds():  # in the child: Chromium reads commands on fd 3, writes replies on fd 4
            r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)  # above 3 and 4, which dup2 replaces
            w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)
            for fd in {r, w, to_browser_r, from_browser_w, self._to_browser, self._from_browser}:
                if fd > 4:  # 3 and 4 now hold the wired ends
                    os.close(fd)

        self.log = open(os.path.join(profile, "chromium.log"), "w+")
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--mute-audio",
             "--user-data-dir=" + profile, "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, close_fds=False,
            preexec_fn=wire_fds)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, timeout=30):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_event(self, method, after=0, timeout=30):
        """Waits until more than `after` events named `method` have arrived; returns how many."""
        deadline = time.monotonic() + timeout
        while True:
            count = sum(e.get("method") == method for e in self.events)
            if count > after:
                return count
            self.events.append(self._read_message(deadline))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def load_and_measure(chromium, report, width):
    """The page's measurements and every console error, exception and failed load it reported."""
    profile = tempfile.mkdtemp(prefix="bnorm_browser_")
    browser = Browser(chromium, profile)
    try:
        # The tab Chromium opened on about:blank, else a new one.
        pages = [t for t in browser.call("Target.getTargets")["targetInfos"] if t["type"] == "page"]
        target = (pages[0]["targetId"] if pages else
                  browser.call("Target.createTarget", {"url": "about:blank"})["targetId"])
        session = browser.call("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.call(domain + ".enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                     session=session)
        url = report.resolve().as_uri()
        browser.call("Page.navigate", {"url": url}, session=session)
        # A load event may still be about:blank's: wait until the report itself has loaded.
        loads = 0
        while True:
            loads = browser.wait_for_event("Page.loadEventFired", after=loads)
            state = browser.call("Runtime.evaluate",
                                 {"expression": "location.href + ' ' + document.readyState",
                                  "returnByValue": True}, session=session)
            if state["result"].get("value") == url + " complete":
                break
        result = browser.call("Runtime.evaluate",
                              {"expression": MEASURE_JS, "returnByValue": True},
                              session=session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"measuring the page failed: {result['exceptionDetails']}")
        return result["result"]["value"], console_errors(browser.events)
    except (RuntimeError, TimeoutError, OSError) as e:
        browser.log.seek(0)
        sys.stderr.write(browser.log.read()[-4000:])
        raise RuntimeError(f"Chromium ({chromium}): {e}") from e
    finally:
        browser.close()
        browser.log.close()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(events):
    errors = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            errors.append(f"console error: {text}")
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = d.get("exception", {}).get("description", d.get("text", ""))
            errors.append(f"uncaught exception: {text} (line {d.get('lineNumber', 0) + 1})")
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            entry = p["entry"]
            where = f" ({entry['url']}:{entry.get('lineNumber', 0) + 1})" if entry.get("url") else ""
            errors.append(f"console error: {entry['text']}{where}")
    return errors


def problems_of(html_text, page, errors, width, min_plots):
    problems = list(errors)
    in_file, svgs = html_text.count("<svg"), page["svgs"]
    if len(svgs) != in_file:
        problems.append(f"{in_file} <svg> in the file but {len(svgs)} in the rendered page")
    if len(svgs) < min_plots:
        problems.append(f"expected at least {min_plots} plots, got {len(svgs)}")
    for s in svgs:
        name = f"plot {s['index'] + 1} ('{s['title']}')"
        if s["width"] <= 0 or s["height"] <= 0:
            problems.append(f"{name} rendered at zero size: {s['width']} x {s['height']} px")
        elif s["marks_drawn"] == 0:
            problems.append(f"{name} draws no data: none of its {s['marks']} lines, bands and "
                            "markers has a size")
        if s["right"] > page["inner_width"] + 0.5:
            problems.append(f"{name} reaches {s['right']:.0f} px, past the {width} px window")
    if page["scroll_width"] > page["inner_width"]:
        problems.append(f"the page is {page['scroll_width']} px wide: it scrolls sideways in a "
                        f"{width} px window")
    for i, tops in enumerate(page["rows"]):
        if tops and max(tops) - min(tops) > 0.5:
            problems.append(f"figure row {i + 1}: its {len(tops)} panels do not stand side by side"
                            f" in a {width} px window (tops at {sorted(set(tops))})")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report", type=pathlib.Path)
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--width", type=int, default=1280, help="window width in CSS pixels")
    parser.add_argument("--min-plots", type=int, default=1)
    parser.add_argument("--expect-problem", nargs="+", default=[], metavar="TEXT")
    args = parser.parse_args()
    try:
        html_text = args.report.read_text(encoding="utf-8")
        page, errors = load_and_measure(args.chromium, args.report, args.width)
    except (OSError, RuntimeError, TimeoutError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    problems = problems_of(html_text, page, errors, args.width, args.min_plots)
    shown = 20  # a fault in the plot code repeats on every tick and every plot
    for p in problems[:shown]:
        print(f"{args.report}: {p}")
    if len(problems) > shown:
        print(f"{args.report}: ... and {len(problems) - shown} more problems")
    if args.expect_problem:
        missed = [t for t in args.expect_problem if not any(t in p for p in problems)]
        for t in missed:
            print(f"error: the checker did not report '{t}'")
        return 1 if missed else 0
    if problems:
        return 1
    rows = len(page["rows"])
    print(f"{args.report}: {len(page['svgs'])} plots rendered at non-zero size in a {args.width}"
          f" px window, {rows} figure row{'' if rows == 1 else 's'} side by side,"
          " no console errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
