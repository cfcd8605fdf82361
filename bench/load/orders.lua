-- wrk: POST a different pre-signed unifiedorder body per request (rotating over the file).
local bodies = {}
for line in io.lines(os.getenv("ORDERS") or "/tmp/tenpay-orders.txt") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/pay/unifiedorder", nil, bodies[i])
end
