-- M1: addToCart, createOrder (a fresh idempotency key each) and submitOrder of the orders this
-- thread created, rotating over the shoppers' tokens and the products. BENCH.add, BENCH.create and
-- BENCH.submit are JSON bodies with %s placeholders (product; product and key; order id).
local queue = {}
local n = 0

function init(args)
  bad, sent_add, sent_create, sent_submit = 0, 0, 0, 0
end

local function post(token, body)
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  return wrk.format("POST", BENCH.path, headers, body)
end

function request()
  n = n + 1
  if #queue > 0 then
    local job = table.remove(queue, 1)
    sent_submit = sent_submit + 1
    return post(BENCH.tokens[job.shopper], string.format(BENCH.submit, job.order))
  end
  local shopper = (math.floor(n / 2) % #BENCH.tokens) + 1
  local product = BENCH.products[(math.floor(n / 2) % #BENCH.products) + 1]
  if n % 2 == 0 then
    sent_add = sent_add + 1
    return post(BENCH.tokens[shopper], string.format(BENCH.add, product))
  end
  sent_create = sent_create + 1
  local key = string.format("%s-%d-%d", BENCH.nonce, tid, n)
  return post(BENCH.tokens[shopper], string.format(BENCH.create, product, key))
end

function response(status, headers, body)
  if is_bad(status, body) then bad = bad + 1 end
  local created = string.find(body, '"createOrder"', 1, true)
  if created then
    local order = string.match(body, '"order"%s*:%s*{%s*"id"%s*:%s*"([^"]+)"')
    local user = string.match(body, '"user"%s*:%s*{%s*"id"%s*:%s*"([^"]+)"')
    if order and user and BENCH.shoppers[user] and #queue < 1000 then
      table.insert(queue, { order = order, shopper = BENCH.shoppers[user] })
    end
  end
end
