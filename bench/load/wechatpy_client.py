#!/usr/bin/env python3
"""wechatpy's client (the peer) calling unifiedorder against the tenpay simulator.

usage: wechatpy_client.py BASE_URL [threads] [seconds]   (run with the peers' venv python)
"""
import os, sys, threading, time

from wechatpy.pay import WeChatPay

base = sys.argv[1].rstrip("/") + "/"
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
secs = float(sys.argv[3]) if len(sys.argv) > 3 else 10
done = [0] * threads
errors = [0] * threads
deadline = time.monotonic() + secs


def work(t):
    pay = WeChatPay("wx2421b1c4370ec43b", "192006250b4c09247ec02edce69f6a2d", "10000100")
    pay.API_BASE_URL = base
    i = 0
    while time.monotonic() < deadline:
        try:
            pay.order.create("NATIVE", "load", 1, "http://127.0.0.1:9/notify", client_ip="127.0.0.1",
                             out_trade_no=f"W{os.getpid()}T{t}N{i}", product_id="P1")
            done[t] += 1
        except Exception:
            errors[t] += 1
        i += 1


start = time.monotonic()
ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
elapsed = time.monotonic() - start
print({"peer": "wechatpy", "threads": threads, "seconds": round(elapsed, 1), "calls": sum(done),
       "errors": sum(errors), "calls_per_s": round(sum(done) / elapsed)})
