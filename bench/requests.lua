-- wrk script: requests taken in order from a file, one line each:
--   METHOD <tab> PATH <tab> COOKIE <tab> BODY
-- Thread k of n sends lines k, k+n, k+2n, … (so no two threads send the same line) and
-- wraps around only if it runs out. POSTs are sent as htmx form posts, like the app's
-- co-sign button. At the end one JSON line is printed with the counts and latencies
-- (microseconds) and how many lines each thread issued, so that the caller knows exactly
-- which requests may have reached the server.
--   wrk -t2 -c4 -d10s -s bench/requests.lua http://127.0.0.1:8000 -- FILE 2

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  lines = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id then
      local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(lines, {method, path, cookie, body})
    end
    i = i + 1
  end
  issued, non200 = 0, 0
end

function request()
  issued = issued + 1
  local r = lines[((issued - 1) % #lines) + 1]
  local headers = {["User-Agent"] = "civic-bench"}
  if r[3] ~= "" then headers["Cookie"] = r[3] end
  if r[1] == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["HX-Request"] = "true"
  end
  return wrk.format(r[1], r[2], headers, r[4])
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  local per_thread, bad = {}, 0
  for _, t in ipairs(threads) do
    table.insert(per_thread, tostring(t:get("issued")))
    bad = bad + t:get("non200")
  end
  io.write(string.format(
    '\nRESULT {"requests": %d, "duration_us": %d, "non200": %d, "socket_errors": %d,' ..
    ' "p50": %d, "p90": %d, "p99": %d, "max": %d, "issued": [%s]}\n',
    summary.requests, summary.duration, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(per_thread, ", ")))
end
