#!/usr/bin/env python3
"""Idle website-chat connections and their server memory.

Logs in to a running `seam demo` (admin@example.com, password from SEAM_ADMIN_PASSWORD),
creates a webchat channel, opens N widget connections (each says hello and waits for its
welcome), then reads the server's resident memory before and after from /proc.

    SEAM_ADMIN_PASSWORD=bench-password-1 target/release/seam demo --data /tmp/wsbench \
        --http 127.0.0.1:18090 --smtp 127.0.0.1:12590 &
    pip install websockets
    SEAM_ADMIN_PASSWORD=bench-password-1 python3 scripts/bench-widget-connections.py 10000
"""
import asyncio, json, sys, time, urllib.request, http.cookiejar, os
import websockets
N = int(sys.argv[1])
base = "http://127.0.0.1:18090"
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
r = opener.open(urllib.request.Request(base + "/api/v1/auth/login", data=json.dumps({"email": "admin@example.com", "password": os.environ["SEAM_ADMIN_PASSWORD"]}).encode(), headers={"content-type": "application/json"}))
csrf = json.loads(r.read())["csrf_token"]
r = opener.open(urllib.request.Request(base + "/api/v1/channels", data=json.dumps({"kind": "webchat", "name": "bench", "config": {"allowed_origins": ["http://bench.example"]}}).encode(), headers={"content-type": "application/json", "x-csrf-token": csrf}))
channel = json.loads(r.read())["id"]
pid = int(os.popen("pgrep -f 'seam demo --data /tmp/wsbench'").read().split()[0])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"): return int(line.split()[1])
async def one(sockets):
    ws = await websockets.connect(f"ws://127.0.0.1:18090/widget/ws?channel={channel}", origin="http://bench.example", max_size=2**20)
    await ws.send(json.dumps({"type": "hello", "channel": channel}))
    msg = json.loads(await ws.recv())
    assert msg["type"] == "welcome", msg
    sockets.append(ws)
async def main():
    before = rss()
    sockets = []
    t = time.time()
    for start in range(0, N, 200):
        await asyncio.gather(*[one(sockets) for _ in range(min(200, N - start))])
    opened = time.time() - t
    await asyncio.sleep(3)
    after = rss()
    print(f"{len(sockets)} widgets open in {opened:.1f}s; server RSS {before} kB -> {after} kB: {(after-before)/len(sockets):.1f} kB per connection")
asyncio.run(main())
