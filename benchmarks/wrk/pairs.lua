-- wrk script: each request is a random (bearer token, path) pair from the file named by
-- BENCH_PAIRS (one "token<TAB>path" per line, the token's user a member of the pet's family;
-- a token of "-" sends no Authorization header).
-- At the end it writes the summary and latency percentiles (microseconds) as JSON to BENCH_OUT.

local requests = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  local path = os.getenv("BENCH_PAIRS")
  local file = assert(io.open(path, "r"), "cannot open BENCH_PAIRS " .. tostring(path))
  for line in file:lines() do
    local token, target = line:match("^(%S+)\t(%S+)$")
    if token then
      local headers = {["Accept"] = "application/json"}
      if token ~= "-" then  -- "-": a signed-out caller, no Authorization header
        headers["Authorization"] = "Bearer " .. token
      end
      requests[#requests + 1] = wrk.format("GET", target, headers)
    end
  end
  file:close()
  assert(#requests > 0, "no pairs in " .. path)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function request()
  return requests[math.random(#requests)]
end

function done(summary, latency, requests_)
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  local e = summary.errors
  local pct = {}
  for _, p in ipairs({50, 75, 90, 99, 99.9}) do
    pct[#pct + 1] = string.format('"%s": %d', tostring(p), latency:percentile(p))
  end
  out:write(string.format(
    '{"duration_us": %d, "requests": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"min": %d, "mean": %.1f, '
      .. '"max": %d, "stdev": %.1f, "percentiles": {%s}}}\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.min, latency.mean, latency.max, latency.stdev, table.concat(pct, ", ")))
  out:close()
end
