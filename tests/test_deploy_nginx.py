"""deploy/nginx.conf in a real nginx started here on 127.0.0.1 (self-signed certificate): it
serves the `current` release, compresses text, caches assets but not results pages, redirects
http to https, and shows a new release (or a rollback) at once, without a reload."""

from __future__ import annotations

import base64
import gzip
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from site_fixture import SID, make_site, record_all

from hailong import sitefiles
from hailong.publish.deploy.run import deploy

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(),
                                reason="needs Debian's nginx-light (.ci/run installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    """nginx with the shipped server blocks, ports and paths pointed into tmp_path."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-subj", "/CN=khaosat.example.gov.vn", "-days", "1",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    http, https = _free_port(), _free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    for old, new in [
        ("listen 80;", f"listen 127.0.0.1:{http};"), ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("/etc/letsencrypt/live/khaosat.example.gov.vn/fullchain.pem", str(tmp_path / "cert.pem")),
        ("/etc/letsencrypt/live/khaosat.example.gov.vn/privkey.pem", str(tmp_path / "key.pem")),
        ("/srv/khaosat/current", str(tmp_path / "srv" / "current")),
        ("/var/www/letsencrypt", str(tmp_path)),
        ("/srv/can-bo/current/", str(tmp_path / "staff" / "current") + "/"),
        ("/etc/nginx/hailong-can-bo.htpasswd", str(tmp_path / "htpasswd")),
    ]:
        assert old in site
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(f"""\
user root;
worker_processes 1;
pid {tmp_path / "nginx.pid"};
error_log {tmp_path / "error.log"};
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {tmp_path / "body"};
    proxy_temp_path {tmp_path / "proxy"};
    fastcgi_temp_path {tmp_path / "fastcgi"};
    uwsgi_temp_path {tmp_path / "uwsgi"};
    scgi_temp_path {tmp_path / "scgi"};
    include {tmp_path / "site.conf"};
}}
""")
    argv = [NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen([*argv, "-g", "daemon off;"])
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, (tmp_path / "error.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", https), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield http, https
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def get(url: str, gz: bool = False, login: str | None = None):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    headers = {"Accept-Encoding": "gzip"} if gz else {}
    if login:
        headers["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
    request = urllib.request.Request(url, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect)
    try:
        with opener.open(request, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_the_shipped_nginx_serves_the_current_release(tmp_path, server):
    http, https = server
    out, cfg = tmp_path / "out", tmp_path / "hailong.toml"
    cfg.write_text('[deploy.tinh]\nkind = "folder"\ndest = "srv"\n', encoding="utf-8")
    site = make_site(out, "1")
    (site / "index.html").write_text("<!doctype html><p>bản 1</p>" + "<p>Xã Tiên Điền</p>" * 100)
    record_all(out)
    deploy([SID], out, config=cfg)
    base = f"https://127.0.0.1:{https}"

    status, headers, body = get(base + "/", gz=True)
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "bản 1" in gzip.decompress(body).decode()
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    status, headers, _ = get(f"{base}/{SID}/ket-qua/")
    assert status == 200 and headers["Cache-Control"] == "no-cache, must-revalidate"
    status, headers, _ = get(f"{base}/{SID}/ket-qua/ranking.csv")
    assert status == 200 and headers["Cache-Control"] == "no-cache, must-revalidate"
    status, headers, _ = get(base + "/static/hailong.css")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Type"].startswith("text/css")
    assert get(base + "/khong-co/")[0] == 404
    (tmp_path / "srv" / "current" / ".secret").write_text("x")
    assert get(base + "/.secret")[0] == 404
    status, headers, _ = get(f"http://127.0.0.1:{http}/{SID}/")
    assert status == 301 and headers["Location"].startswith("https://")

    (site / "index.html").write_text("<!doctype html><p>bản 2</p>")
    record_all(out)
    deploy([SID], out, config=cfg)
    assert "bản 2" in get(base + "/")[2].decode()  # no reload needed
    deploy([SID], out, config=cfg, rollback=True)
    assert "bản 1" in get(base + "/")[2].decode()


def test_staff_pages_sit_behind_the_login_and_never_on_the_public_site(tmp_path, server):
    _http, https = server
    hashed = subprocess.run(["openssl", "passwd", "-apr1", "mat-khau-can-bo"], capture_output=True,
                            text=True, check=True, timeout=60).stdout.strip()
    (tmp_path / "htpasswd").write_text(f"canbo:{hashed}\n")
    out, cfg = tmp_path / "out", tmp_path / "hailong.toml"
    cfg.write_text('[deploy.tinh]\nkind = "folder"\ndest = "srv"\n'
                   '[deploy.can-bo]\nkind = "folder"\ndest = "staff"\naudience = "staff"\n',
                   encoding="utf-8")
    site = make_site(out)
    page = site / SID / "tien-do" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<!doctype html><title>Tiến độ</title><p>không công bố</p>", encoding="utf-8")
    sitefiles.record(out, SID, "progress", [page], audience=sitefiles.STAFF)
    deploy([SID], out, target="tinh", config=cfg)
    deploy([SID], out, target="can-bo", config=cfg)
    base = f"https://127.0.0.1:{https}"
    assert get(f"{base}/{SID}/tien-do/")[0] == 404  # the public site never has it
    status, headers, _ = get(f"{base}/can-bo/{SID}/tien-do/")
    assert status == 401 and "Basic" in headers["WWW-Authenticate"]
    assert get(f"{base}/can-bo/{SID}/tien-do/", login="canbo:sai")[0] == 401
    status, headers, body = get(f"{base}/can-bo/{SID}/tien-do/", login="canbo:mat-khau-can-bo")
    assert status == 200 and "không công bố" in body.decode()
    assert headers["Cache-Control"] == "no-store" and "noindex" in headers["X-Robots-Tag"]
    # the staff copy carries the public pages too, so its links and styles work
    assert get(f"{base}/can-bo/static/hailong.css", login="canbo:mat-khau-can-bo")[0] == 200
