-- wrk script: POST prediction bodies read from a file (one JSON body per line),
-- cycling through them; each wrk thread starts at a different line.
-- Usage: wrk -s nginx/bench/predict.lua URL -- BODIES_FILE
local bodies = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

function init(args)
    local path = args[1] or "bodies.jsonl"
    for line in io.lines(path) do
        if #line > 0 then
            bodies[#bodies + 1] = line
        end
    end
    if #bodies == 0 then
        error("no bodies in " .. path)
    end
    i = (id or 1) * 7919 % #bodies
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    -- each request formatted once, here: formatting a 100 KB body per request
    -- cost wrk more CPU than nginx spent on it
    for k = 1, #bodies do
        bodies[k] = wrk.format(nil, nil, nil, bodies[k])
    end
end

function request()
    i = i % #bodies + 1
    return bodies[i]
end

function done(summary, latency, requests)
    -- answers of status 400 and above, counted by wrk itself: a response()
    -- callback would cost a Lua call with the headers parsed per answer
    local non200 = summary.errors.status
    io.write(string.format("RESULT requests=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f non200=%d sockerr=%d p95_ms=%.3f\n",
        summary.requests, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, non200,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        latency:percentile(95) / 1000))
end
