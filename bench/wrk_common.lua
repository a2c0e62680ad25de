-- Shared by every bench wrk script (bench/load.py prepends a BENCH table and the script of the
-- operation): a counter of bad responses per thread, and one machine-readable result line.
-- A response is bad when its status is not 200, it has GraphQL "errors", or a non-empty
-- userErrors list.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function is_bad(status, body)
  if status ~= 200 then return true end
  if string.find(body, '"errors"', 1, true) then return true end
  return string.find(body, '"userErrors"%s*:%s*%[%s*{') ~= nil
end

function done(summary, latency, requests)
  local bad, mix = 0, { add = 0, create = 0, submit = 0 }
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("bad") or 0)
    for kind, _ in pairs(mix) do mix[kind] = mix[kind] + (thread:get("sent_" .. kind) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bad":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,' ..
    '"mix":{"add":%d,"create":%d,"submit":%d}}\n',
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    mix.add, mix.create, mix.submit))
end
