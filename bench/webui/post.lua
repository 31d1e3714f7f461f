-- wrk script of the web load benchmark: POSTs JSON to the URL given on the wrk command line with a
-- Bearer token, rotating through the queries in $SB_QUERIES. $SB_KIND picks the body: "search"
-- ({"query","top_k"}) or "ask" ({"question","top_k"}). done() prints one RESULT line that load.sh
-- reads: requests, requests/s, latency percentiles and failures (socket errors and non-2xx by status).

local queries = {}
for line in io.lines(os.getenv("SB_QUERIES")) do
  if #line > 0 then queries[#queries + 1] = line end
end
local kind = os.getenv("SB_KIND") or "search"
local field = kind == "ask" and "question" or "query"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SB_TOKEN")

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

local counter, statuses
function init(args)
  counter = id * 7919
  statuses = {}
end

function request()
  counter = counter + 1
  local q = queries[counter % #queries + 1]
  return wrk.format(nil, nil, nil, string.format('{"%s":"%s","top_k":5}', field, q))
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    statuses[status] = (statuses[status] or 0) + 1
    failed_statuses = ""
    for code, n in pairs(statuses) do failed_statuses = failed_statuses .. code .. ":" .. n .. "," end
  end
end

function done(summary, latency, requests)
  -- Each thread keeps its own tally as "code:n,code:n,"; add them up per status.
  local totals, codes = {}, {}
  for _, thread in ipairs(threads) do
    for code, n in string.gmatch(thread:get("failed_statuses") or "", "(%d+):(%d+),") do
      if not totals[code] then codes[#codes + 1] = code end
      totals[code] = (totals[code] or 0) + tonumber(n)
    end
  end
  table.sort(codes)
  local by_status = {}
  for _, code in ipairs(codes) do by_status[#by_status + 1] = code .. ":" .. totals[code] end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "socket_errors=%d non2xx=%d timeouts=%d statuses=%s\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write, e.status, e.timeout, #by_status == 0 and "-" or table.concat(by_status, ",")))
end
