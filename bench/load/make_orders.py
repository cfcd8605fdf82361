#!/usr/bin/env python3
"""Writes N signed unifiedorder bodies (one per line, MD5, the doc key) for the wrk load test.

Signing here is an independent implementation of the documented rule (sorted k=v, &key=, MD5).
"""
import hashlib, sys

KEY = "192006250b4c09247ec02edce69f6a2d"
n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/tenpay-orders.txt"
with open(out, "w") as f:
    for i in range(n):
        p = {
            "appid": "wx2421b1c4370ec43b", "mch_id": "10000100", "nonce_str": f"n{i:031d}",
            "body": "load test", "out_trade_no": f"LOAD{i:010d}", "total_fee": "888",
            "spbill_create_ip": "127.0.0.1", "notify_url": "http://127.0.0.1:9/notify",
            "trade_type": "NATIVE", "product_id": "P1",
        }
        s = "&".join(f"{k}={p[k]}" for k in sorted(p)) + "&key=" + KEY
        p["sign"] = hashlib.md5(s.encode()).hexdigest().upper()
        f.write("<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in p.items()) + "</xml>\n")
print(out)
