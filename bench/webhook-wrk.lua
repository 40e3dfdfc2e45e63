-- bench/webhook-wrk.lua: the wrk script of webhook-latency.sh.
--
--   wrk ... -s webhook-wrk.lua URL                          GET URL (the /healthz baseline)
--   wrk ... -s webhook-wrk.lua URL -- BODYFILE SIGNATURE    POST the bytes of BODYFILE with
--                                                           `X-Signature: SIGNATURE`
--
-- The request is formatted once per thread and sent as is, so wrk spends nothing per request
-- on Lua. At the end one line for the script to parse:
--   wrk requests=N duration_us=N rps=X p50_us=N p99_us=N non2xx=N socket_errors=N
-- (non2xx: answers with a status of 400 or more, which is every answer of a rejected request).

local prepared

function init(args)
    if #args >= 2 then
        local file = assert(io.open(args[1], "rb"))
        local body = file:read("*a")
        file:close()
        prepared = wrk.format("POST", nil, {
            ["Content-Type"] = "application/json",
            ["X-Signature"] = args[2],
        }, body)
    else
        prepared = wrk.format("GET")
    end
end

function request()
    return prepared
end

function done(summary, latency, _)
    local e = summary.errors
    io.write(string.format(
        "wrk requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
        summary.requests, summary.duration, summary.requests / summary.duration * 1e6,
        latency:percentile(50), latency:percentile(99), e.status,
        e.connect + e.read + e.write + e.timeout))
end
