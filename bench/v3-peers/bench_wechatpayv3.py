"""wechatpayv3 (PyPI): v3 request signing, answer verification and AES-GCM resource
decryption on the inputs of crates/tenpay-sign-v3/benches/v3.rs.
Run: python bench_wechatpayv3.py DATA_DIR"""
import json, os, sys, time
from wechatpayv3.utils import rsa_sign, rsa_verify, aes_decrypt, load_private_key, load_public_key

data = sys.argv[1]
key = load_private_key(open(os.path.join(data, "wechatpay-java_merchant_private_key.pem")).read())
pub = load_public_key(open(os.path.join(data, "wechatpay-java_wechat_pay_public_key.pem")).read())
body = '{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}'
v7 = "Bde9UqZ7oxIjzxD9k0RuT/tgtVkXh1WSQdNXGwfMyojjSyPCHGXSNDheoKWSeYsFs2ohLWVQFMPrLLvjuvUfl9y+Tubel5hq9uUoIBNkyWUoOyGVYhpnPdeQtOwmbBF6jCE+hi2gKI5l/st8pCw3TRNJ8cLSVj/If7badqwYFJym27gPOkQ3MIi++6rVvzwU/M2jopr8SlD3brVEXmy+Q/Be8UNJ/9ofJRmm7ERgD3hwV3bmwFrH0H+DhOJpp4GaTyPEDPvc06Drq1cgB7XRD1OTEnM+LEDyef23i0Iv+lKPcYxCmqJCVPuD3MBjnGtv0+ReT/uGa2Kc5xwbEK4LRw=="
note = json.load(open(os.path.join(data, "computed_notify_transaction_32bytekey.json")))

def bench(name, n, f):
    for _ in range(min(n, 200)):
        f()
    t = time.perf_counter()
    for _ in range(n):
        f()
    print(f"{name}: {(time.perf_counter() - t) / n * 1e6:.2f} µs/op")

def sign():
    ts = str(int(time.time()))
    nonce = "eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u"
    message = f"POST\n/v3/pay/transactions/jsapi\n{ts}\n{nonce}\n{body}\n"
    sig = rsa_sign(key, message)
    return f'WECHATPAY2-SHA256-RSA2048 mchid="1230000109",nonce_str="{nonce}",signature="{sig}",timestamp="{ts}",serial_no="5F1C72E2A8931B72A2E13AF8DEE92471EB397115"'

answer = '{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}'
def verify():
    assert rsa_verify("1722850421", "d824f2e086d3c1df967785d13fcd22ef", answer, v7, pub)

r = note["resource"]
def decrypt():
    return aes_decrypt(r["nonce"], r["ciphertext"], r["associated_data"], "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb")

bench("sign request (Authorization)", 3000, sign)
bench("verify answer", 30000, verify)
bench("decrypt notification resource", 100000, decrypt)
