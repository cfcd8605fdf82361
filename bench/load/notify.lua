-- wrk: POST the peers' signed pay notification fixture.
local f = assert(io.open(os.getenv("NOTIFY") or "testdata/bench/pay_notify.xml", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/xml"
