-- post.lua — wrk script for `make bench`: POSTs a JSON comment whose e-mail
-- and content change on every request (so flood control and duplicate
-- detection never answer instead of the rules), then prints the figures the
-- bench reads. Environment: BENCH_PATH (/v1/comments or /v1/check),
-- BENCH_TEXT (file with the comment text, JSON-escaped), BENCH_CLOSE=1 adds
-- `Connection: close`.
local path = os.getenv("BENCH_PATH") or "/v1/check"
local f = assert(io.open(os.getenv("BENCH_TEXT"), "rb"))
local text = f:read("*a")
f:close()
local headers = { ["Content-Type"] = "application/json" }
if os.getenv("BENCH_CLOSE") == "1" then headers["Connection"] = "close" end

-- BENCH_DELAY_MS paces each connection (wrk waits about that long before
-- its next request): with C connections the offered rate is about
-- C * 1000 / delay per second, how the bench measures latency at half of
-- peak. The wait is drawn uniformly from 0 to twice the mean: with a fixed
-- wait the connections stay in step and every request arrives in a burst of
-- C, so p99 would measure the burst, not the server. wrk's latency figures
-- do not include the wait.
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
  function delay()
    return math.random() * 2 * delay_ms
  end
end

-- BENCH_RUN makes every run's texts new: the same Redis serves all runs and
-- would answer 409 (duplicate) to a text it has seen.
local run = os.getenv("BENCH_RUN") or tostring(os.time())
-- BENCH_SITES=N spreads the comments over sites s0..sN-1 (the Cluster row:
-- each site's keys live in one slot, so one site would load one master).
local sites = tonumber(os.getenv("BENCH_SITES") or "") or 0
local counter = 0
local thread_id = 0
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
end

function init(args)
  math.randomseed(os.time() + thread_id)
end

function request()
  counter = counter + 1
  local n = thread_id * 100000000 + counter
  local body = string.format(
    '{%s"post_id":"p%d","author":"Reader %d","email":"r%s.%d@example.com","content":"%s #%s.%d"}',
    sites > 0 and string.format('"site":"s%d",', counter % sites) or "", counter % 500, n, run, n, text, run, n)
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
