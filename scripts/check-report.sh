#!/usr/bin/env bash
# Opens REPORT_DIR/report.html (from `sgdlab experiment all`) in headless Chromium and checks
# that every <img> loaded (complete, naturalWidth > 0). Exits 0 when all did, 1 otherwise.
#
#   scripts/check-report.sh artifacts/experiments-20261129-051500
#
# The report itself has no script, so the check runs in a page of its own: REPORT_DIR is
# served on localhost (python3 -m http.server) beside a check page that loads the report in
# a same-origin <iframe>, waits for each image, and writes the verdict into its DOM, which
# Chromium prints with --dump-dom. Debian's `chromium` is installed with apt-get if missing.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 REPORT_DIR" >&2
    exit 2
fi
report_dir=$(cd "$1" 2>/dev/null && pwd) || {
    echo "error: $1: no such directory" >&2
    exit 1
}
if [[ ! -f "$report_dir/report.html" ]]; then
    echo "error: $report_dir/report.html not found (run sgdlab experiment all first)" >&2
    exit 1
fi

if ! command -v chromium >/dev/null 2>&1; then
    echo "installing chromium (apt-get)..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

work=$(mktemp -d)
profile=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work" "$profile"
}
trap cleanup EXIT

ln -s "$report_dir" "$work/report"
cat >"$work/check.html" <<'HTML'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>report check</title></head>
<body>
<pre id="verdict">PENDING</pre>
<iframe id="report" src="report/report.html" width="1200" height="900"></iframe>
<script>
const frame = document.getElementById('report');
frame.addEventListener('load', () => {
  const images = Array.from(frame.contentDocument.images);
  const settled = images.map(img => img.complete ? Promise.resolve()
    : new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); }));
  Promise.all(settled).then(() => {
    const failed = images.filter(img => !(img.complete && img.naturalWidth > 0))
                         .map(img => img.getAttribute('src'));
    const sizes = images.map(img => img.getAttribute('src') + '=' + img.naturalWidth + 'x' + img.naturalHeight);
    document.getElementById('verdict').textContent =
      'VERDICT images=' + images.length + ' loaded=' + (images.length - failed.length) +
      ' failed=[' + failed.join(' ') + '] sizes=[' + sizes.join(' ') + ']';
  });
});
</script>
</body></html>
HTML

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/check.html')" 2>/dev/null; then
        break
    fi
    sleep 0.1
done

dom=$(timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --virtual-time-budget=20000 --dump-dom \
    "http://127.0.0.1:$port/check.html" 2>/dev/null || true)
# The <pre>'s text once the page has run (the script's own source also says VERDICT).
verdict=$(grep -o '<pre id="verdict">VERDICT images=[0-9][^<]*' <<<"$dom" || true)
if [[ -z "$verdict" ]]; then
    echo "error: the check page never finished (Chromium output had no verdict)" >&2
    exit 1
fi
images=$(sed -E 's/.*images=([0-9]+).*/\1/' <<<"$verdict")
loaded=$(sed -E 's/.*loaded=([0-9]+).*/\1/' <<<"$verdict")
failed=$(sed -E 's/.*failed=\[([^]]*)\].*/\1/' <<<"$verdict")
echo "$report_dir/report.html: $loaded of $images figures loaded in headless Chromium"
if [[ "$images" -eq 0 || "$loaded" -ne "$images" ]]; then
    echo "error: figures that did not load: ${failed:-none found in the report}" >&2
    exit 1
fi
