'use strict';
// node tenpay 2.1.18's `middleware('pay')` logic on node's own http server: the peer of
// `cargo run --release -p tenpay-notify --example serve` in notify-one-core.sh.
// The body is read whole as a string (as the express/koa body parsers hand it to the
// middleware), `_parse(body, 'middleware_pay')` checks appid, mch_id and the signature exactly as
// the middleware does, then the handler settles against the order's amount and replies with
// the middleware's own reply body. Run: NODE_PATH=.../node_modules node notify_node.js PORT
const http = require('http');
const tenpay = require('tenpay');
const util = require('tenpay/lib/util');

const pay = new tenpay({appid: 'wx2421b1c4370ec43b', mchid: '10000100',
  partnerKey: '192006250b4c09247ec02edce69f6a2d'});
const reply = msg => util.buildXML(msg ? {return_code: 'FAIL', return_msg: msg} : {return_code: 'SUCCESS'});
const port = +(process.argv[2] || 18801);
let paid = 0;

http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405, {'Content-Type': 'application/xml; charset=utf-8'});
    res.end(reply('POST only'));
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', c => {
    size += c.length;
    if (size > 65536) req.destroy(); else chunks.push(c);
  });
  req.on('end', async () => {
    let body;
    try {
      const json = await pay._parse(Buffer.concat(chunks).toString('utf8'), 'middleware_pay');
      if (json.total_fee !== '88') throw new Error('amount mismatch');
      paid++;
      body = reply();
    } catch (err) {
      body = reply(err.message);
    }
    res.writeHead(200, {'Content-Type': 'application/xml; charset=utf-8'});
    res.end(body);
  });
}).listen(port, '127.0.0.1', () => console.log(`node tenpay notify on http://127.0.0.1:${port}`));
