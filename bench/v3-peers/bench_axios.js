// wechatpay-axios-plugin (npm): v3 request signing, answer verification and AES-GCM
// resource decryption on the inputs of crates/tenpay-sign-v3/benches/v3.rs.
// Run: NODE_PATH=<folder with node_modules/wechatpay-axios-plugin> node bench_axios.js DATA_DIR
const fs = require('fs');
const path = require('path');
const { Rsa, Aes, Formatter } = require('wechatpay-axios-plugin');
const data = process.argv[2];
const merchantKey = Rsa.from(fs.readFileSync(path.join(data, 'wechatpay-java_merchant_private_key.pem')), Rsa.KEY_TYPE_PRIVATE);
const wechatPub = Rsa.from(fs.readFileSync(path.join(data, 'wechatpay-java_wechat_pay_public_key.pem')), Rsa.KEY_TYPE_PUBLIC);
const body = '{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}';
const v7 = 'Bde9UqZ7oxIjzxD9k0RuT/tgtVkXh1WSQdNXGwfMyojjSyPCHGXSNDheoKWSeYsFs2ohLWVQFMPrLLvjuvUfl9y+Tubel5hq9uUoIBNkyWUoOyGVYhpnPdeQtOwmbBF6jCE+hi2gKI5l/st8pCw3TRNJ8cLSVj/If7badqwYFJym27gPOkQ3MIi++6rVvzwU/M2jopr8SlD3brVEXmy+Q/Be8UNJ/9ofJRmm7ERgD3hwV3bmwFrH0H+DhOJpp4GaTyPEDPvc06Drq1cgB7XRD1OTEnM+LEDyef23i0Iv+lKPcYxCmqJCVPuD3MBjnGtv0+ReT/uGa2Kc5xwbEK4LRw==';
const note = JSON.parse(fs.readFileSync(path.join(data, 'computed_notify_transaction_32bytekey.json')));
function bench(name, n, f) {
  for (let i = 0; i < Math.min(n, 200); i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  const ns = Number(process.hrtime.bigint() - t) / n;
  console.log(`${name}: ${(ns / 1000).toFixed(2)} µs/op`);
}
bench('sign request (Authorization)', 3000, () => {
  const ts = Formatter.timestamp(); const nonce = Formatter.nonce();
  const sig = Rsa.sign(Formatter.request('POST', '/v3/pay/transactions/jsapi', ts, nonce, body), merchantKey);
  return Formatter.authorization('1230000109', nonce, sig, ts, '5F1C72E2A8931B72A2E13AF8DEE92471EB397115');
});
const answer = '{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}';
bench('verify answer', 30000, () => {
  if (!Rsa.verify(Formatter.response('1722850421', 'd824f2e086d3c1df967785d13fcd22ef', answer), v7, wechatPub)) throw new Error('verify');
});
bench('decrypt notification resource', 100000, () => {
  const r = note.resource;
  return Aes.AesGcm.decrypt(r.ciphertext, 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb', r.nonce, r.associated_data);
});
