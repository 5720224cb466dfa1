-- wrk script for docs/benchmarks.md: POST /api/events with a fresh session_opened event per
-- request (unique session ids per thread). Set CE_COOKIE to the ce_session=… cookie.
local counter = 0
local tid = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  tid = tonumber(wrk.thread:get("tid")) or 0
  math.randomseed(os.time() + tid * 7919)
end
wrk.method = "POST"
wrk.headers["Cookie"] = os.getenv("CE_COOKIE") or ""
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local sid = string.format("%08x-%04x-4000-8000-%012x", math.random(0, 0x7fffffff), tid, counter)
  return wrk.format(nil, nil, nil, '{"body":{"kind":"session_opened","payload":{"session_id":"' .. sid .. '","resident_id":"0001000100","stations":["measurement"]}}}')
end
done = function(summary, latency, requests)
  io.write(string.format("non-2xx/3xx: %d\n", summary.errors.status))
end
