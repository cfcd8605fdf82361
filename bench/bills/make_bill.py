#!/usr/bin/env python3
"""Writes a modern (27-column, BOM, CRLF, five-decimal fees) trade bill with N payment rows:
make_bill.py N OUT.csv"""
import sys

n, out = int(sys.argv[1]), sys.argv[2]
header = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
          "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
          "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
total = fees = 0
with open(out, "w", encoding="utf-8", newline="") as f:
    f.write("\ufeff" + header + "\r\n")
    for i in range(n):
        fen = 100 + i % 9900
        fee = fen * 6
        total += fen
        fees += fee
        f.write(f"`2026-11-30 {i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02},`wx2421b1c4370ec43b,`10000100,`0,`,"
                f"`42000{i:023},`M{i:015},`oUpF8uMEb4qRXf22hE3X68TekukE,`JSAPI,`SUCCESS,`CFT,`CNY,"
                f"`{fen // 100}.{fen % 100:02},`0.00,`0,`0,`0.00,`0.00,`,`,`会员,月卡,`,"
                f"`{fee // 100000}.{fee % 100000:05},`0.60%,`{fen // 100}.{fen % 100:02},`0.00,`\r\n")
    f.write("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n")
    f.write(f"`{n},`{total // 100}.{total % 100:02},`0.00,`0.00,`{fees // 100000}.{fees % 100000:05},"
            f"`{total // 100}.{total % 100:02},`0.00\r\n")
