-- wrk: a request the server refuses at once (GET on the notify URL: 405, no body read).
wrk.method = "GET"
