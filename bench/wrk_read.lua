-- One fixed POST (BENCH.body, BENCH.headers) over and over.
wrk.method = "POST"
wrk.path = BENCH.path
wrk.body = BENCH.body
for name, value in pairs(BENCH.headers) do wrk.headers[name] = value end

function init(args)
  bad = 0
end

function response(status, headers, body)
  if is_bad(status, body) then bad = bad + 1 end
end
